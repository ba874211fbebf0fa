"""The detector: builds reference banks and inspects images with them.

One ``Detector`` owns the loaded backbones (one per name and device) and is meant to live as long
as the process or worker thread.  ``inspect`` is the single scoring path used by the benchmark,
the CLI and the GUI: file or array -> preprocessing stored in the bank -> features -> per-layer
distance maps -> fused map at the original resolution -> image score.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from engine import scene
from engine.area import Area, area_share, area_size, crop_to_area, fill_ignored, paste_into_frame, scored_pixels
from engine.augment import augmented_views, rotation_views, shifted_view
from engine.backbones import Backbone, check_layers, create_backbone, resolve_device
from engine.bank import ReferenceBank
from engine.calibration import Calibration, calibrate
from engine.config import EngineConfig
from engine.errors import EmptyReferenceSetError, EngineError, TextGuidanceError
from engine.features import FeatureExtractor, reference_scale, target_size
from engine.foreground import foreground_mask, masking_applies
from engine.frame import other_frame, reference_frame
from engine.greyscale import is_grey, to_grey
from engine.imageio import DecodedImage, check_pixels, decode_for_inspection, float_rgb_at, image_shape, to_uint8
from engine.prompts import PromptLibrary
from engine.same_photo import repeated, same_photo_groups
from engine.scoring import (
    LayerSearch,
    fuse_layer_maps,
    image_score,
    layer_distance_map,
    nearest_distance,
    search_layout,
    to_original_size,
)
from engine.text_guidance import TextGuide, prompt_embeddings

ImageInput = str | Path | np.ndarray | DecodedImage
ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]
GreyTwin = tuple[dict[str, LayerSearch], torch.Tensor | None]  # per-layer search matrices, scene descriptors

# The whole frame's map kept for an inspection area is at most this long (a small area of a large
# photo would otherwise need a map of tens of megapixels).
STORED_MAP_MAX_SIDE = 2048

# The part's name in the prompts when a bank with text guidance is built without a project's library.
GENERIC_PART = "part"

# Rotated views are kept when they bring the references' leave-one-out scores down to this
# fraction or less of the plain bank's: a sign that the part lies at varying angles.
ROTATION_GAIN_RATIO = 0.75
# At most this many references are held out in turn for the threshold (``held_out_indices``).
MAX_HELD_OUT = 16


class Cancelled(EngineError):
    """Raised between steps when the caller's cancel check returns True."""

    def __init__(self) -> None:
        super().__init__("Cancelled.")


@dataclass
class AnomalyResult:
    """What the engine measured on one image; plain numpy and Python types only.

    ``processing_map`` is the fused map at the processing size, of the inspection ``area`` when
    the bank has one (else of the whole image); ``anomaly_map`` is that map resized (bilinearly)
    to the image's own size, zero outside the area, made when first asked for: at 100 megapixels
    it is 400 MB, and the fact sheet works on ``map_at`` a smaller size instead.
    ``scene_distance`` is how far the image as a whole lies from the references
    (``engine.scene``); None for older banks.  ``compared_in_grey``: a grey photo searched against
    the references made grey, since the bank's have colour (``engine.greyscale``).  ``frame_aspects``:
    (this image's width / height, the references') when the references share one frame and the image
    (its inspection area, when the bank has one) has another shape: another camera view, or a crop.
    """

    score: float
    processing_map: np.ndarray
    layer_maps: dict[str, np.ndarray]
    image_size: tuple[int, int]
    processing_size: tuple[int, int]
    normalised_score: float | None = None
    verdict: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    scene_distance: float | None = None
    area: Area | None = None
    compared_in_grey: bool = False
    frame_aspects: tuple[float, float] | None = None

    @cached_property
    def anomaly_map(self) -> np.ndarray:
        """The map at the image's own size (float32)."""
        return self.map_at(*self.image_size)

    def map_at(self, height: int, width: int) -> np.ndarray:
        """The map resized to (height, width) exactly as ``anomaly_map`` is made at the image's size."""
        if self.area is None:
            return to_original_size(self.processing_map, height, width)
        return paste_into_frame(self.processing_map, (height, width), self.area)

    def area_view(self) -> AnomalyResult:
        """This result as if its image were the inspection area alone: what facts are measured on."""
        return replace(self, image_size=area_size(self.image_size, self.area), area=None)

    def storable_map(self) -> np.ndarray:
        """The map to keep for display: the processing map; with an inspection area, the whole
        frame's map at the area's processing scale (at most ``STORED_MAP_MAX_SIDE`` on its longer
        side), zero outside the area."""
        if self.area is None:
            return self.processing_map
        height, width = self.image_size
        scale = self.processing_size[0] / area_size(self.image_size, self.area)[0]
        scale = min(scale, STORED_MAP_MAX_SIDE / max(height, width))
        return self.map_at(max(1, round(height * scale)), max(1, round(width * scale)))


@dataclass
class PreparedImage:
    """An image after loading and resizing, with the features of its processing size."""

    image_size: tuple[int, int]
    processing_size: tuple[int, int]
    features: dict[str, torch.Tensor]
    foreground: np.ndarray | None = None
    load_ms: float = 0.0
    features_ms: float = 0.0
    area: Area | None = None
    grey: bool = False


class Detector:
    """Few-shot anomaly detector on one device; caches backbones by name."""

    def __init__(self, device: str | torch.device = "auto") -> None:
        self.device = resolve_device(device)
        self._backbones: dict[tuple[str, str | None], Backbone] = {}

    def backbone(self, config: EngineConfig) -> Backbone:
        """The loaded backbone for ``config`` (built on first use)."""
        key = (config.backbone, config.backbone_weights)
        if key not in self._backbones:
            self._backbones[key] = create_backbone(config.backbone, self.device, weights=config.backbone_weights)
        return self._backbones[key]

    def resolve_config(self, config: EngineConfig) -> EngineConfig:
        """Fill the backbone-dependent fields (layers, normalisation, input grid) of ``config``."""
        backbone = self.backbone(config)
        spec = backbone.spec
        check_layers(config.backbone, config.layers, backbone.available_layers())
        resolved = replace(config, layers=config.layers or spec.layers, mean=spec.mean, std=spec.std,
                           input_multiple=spec.input_multiple, fixed_size=spec.fixed_size)
        if resolved.text_guidance > 0:
            if spec.family != "clip":
                raise TextGuidanceError(config.backbone, "only a CLIP backbone has the text tower it needs")
            last = backbone.available_layers()[-1]
            if last not in resolved.layers:
                raise TextGuidanceError(config.backbone, f"it reads the last block, {last}; add it to the layers")
        return resolved

    def extractor(self, config: EngineConfig) -> FeatureExtractor:
        """Feature extractor for a resolved config."""
        return FeatureExtractor(self.backbone(config), config)

    def prepare(self, image: ImageInput, config: EngineConfig, fill: np.ndarray | None = None) -> PreparedImage:
        """Load, crop to the inspection area, resize and extract features of one image; ``fill``
        (float RGB, of the area) covers the ignored rectangles."""
        start = time.perf_counter()
        source = _describe(image, 0)
        area = config.inspection_area
        decoded = _decoded(image, source, area)
        inside = config.inside_area()
        processing = target_size(*area_size(decoded.size, area), inside)
        pixels = crop_to_area(decoded.pixels, area)
        resized = float_rgb_at(pixels, processing, source)
        grey = is_grey(resized)  # before the ignored rectangles are filled from a (perhaps colour) reference
        if config.grey_references and not grey:
            resized, grey = to_grey(resized), True
        if grey and fill is not None:
            fill = to_grey(fill)
        resized = fill_ignored(resized, fill, inside.ignored_areas)
        loaded = time.perf_counter()
        features = {k: v[0] for k, v in self.extractor(config)([resized]).items()}
        mask = foreground_mask(resized) if config.foreground != "off" else None
        done = time.perf_counter()
        return PreparedImage(decoded.size, processing, features, mask, (loaded - start) * 1e3,
                             (done - loaded) * 1e3, area, grey)

    def score_prepared(self, prepared: PreparedImage, bank: ReferenceBank) -> AnomalyResult:
        """Score prepared features against ``bank``: layer maps, fused map, image score, verdict."""
        start = time.perf_counter()
        config = bank.config.inside_area()
        twin = self._needs_grey_twin(prepared, bank)
        search, descriptors = self._grey_twin(bank) if twin else (self._search_matrices(bank), bank.scene_descriptors)
        layer_maps, fused = self._fused_map(prepared, search, config, self._text_guide(bank))
        score = scored_image_score(fused, prepared, config)
        distance = self._scene_distance(prepared, bank, descriptors)
        calibration = bank.calibration
        done = time.perf_counter()
        return AnomalyResult(
            score=score, processing_map=fused,
            layer_maps={name: m.cpu().numpy() for name, m in zip(config.layers, layer_maps)},
            image_size=prepared.image_size, processing_size=prepared.processing_size,
            normalised_score=calibration.normalise(score) if calibration else None,
            verdict=calibration.verdict(score) if calibration else None,
            timings_ms={"load": prepared.load_ms, "features": prepared.features_ms, "score": (done - start) * 1e3},
            scene_distance=distance, area=prepared.area, compared_in_grey=twin,
            frame_aspects=other_frame(area_size(prepared.image_size, prepared.area), bank.config.reference_frame),
        )

    def scene_distance(self, prepared: PreparedImage, bank: ReferenceBank) -> float | None:
        """How far the prepared image as a whole lies from the references (``engine.scene``)."""
        descriptors = self._grey_twin(bank)[1] if self._needs_grey_twin(prepared, bank) else bank.scene_descriptors
        return self._scene_distance(prepared, bank, descriptors)

    @staticmethod
    def _scene_distance(prepared: PreparedImage, bank: ReferenceBank, descriptors: torch.Tensor | None) -> float | None:
        if descriptors is None:
            return None
        return scene.scene_distance(scene.scene_descriptor(prepared.features[bank.config.layers[-1]]), descriptors)

    def _fused_map(self, prepared: PreparedImage, search: dict[str, LayerSearch], config: EngineConfig,
                   guide: TextGuide | None) -> tuple[list[torch.Tensor], np.ndarray]:
        """Per-layer distance maps and the fused, smoothed, masked map at the processing size; ``guide``
        weights it by the prompts (``engine.text_guidance``)."""
        layer_maps = [layer_distance_map(prepared.features[name].to(self.device), search[name], config.chunk_size,
                                         config.augmented_search_share)
                      for name in config.layers]
        processing = prepared.processing_size
        fused = fuse_layer_maps(layer_maps, processing, sigma=config.smoothing_sigma * _scale(processing, config))
        if guide is not None:
            fused = fused * guide.factor(prepared.features[guide.layer], processing).numpy()
        scored = scored_mask(prepared, config)
        if scored is not None:
            fused = fused * scored
        return layer_maps, fused

    def inspect(self, image: ImageInput, bank: ReferenceBank) -> AnomalyResult:
        """Score one image (path or array) against ``bank``, end to end."""
        return self.score_prepared(self.prepare(image, bank.config, _ignored_fill(bank)), bank)

    def build_bank(self, images: Sequence[ImageInput], config: EngineConfig | None = None,
                   reference_ids: Sequence[str] | None = None, progress: ProgressCallback | None = None,
                   cancel: CancelCheck | None = None, prompts: PromptLibrary | None = None) -> ReferenceBank:
        """Build a bank from good images; augmentation ``auto`` is decided from the images.

        ``prompts``: the part's prompt library, for text guidance (a generic part's when None).
        """
        if not images:
            raise EmptyReferenceSetError()
        config = self.resolve_config(config or EngineConfig())
        ids = list(reference_ids) if reference_ids is not None else [_describe(img, i) for i, img in enumerate(images)]
        extractor = self.extractor(config)
        plain: list[dict[str, torch.Tensor]] = []
        plain_maps: list[dict[str, torch.Tensor]] = []
        resized_refs: list[np.ndarray] = []
        greys: list[bool] = []
        rotated: list[dict[str, torch.Tensor]] = []
        flipped: list[dict[str, torch.Tensor]] = []
        want_rotations = config.augment in ("rotations", "auto")
        total = len(images) + len(held_out_indices(len(images)))  # extraction, then the hold-outs
        # Sizes first (file headers), so that each reference is decoded, resized and dropped in
        # turn: eight 12-megapixel references held at full size would take over a gigabyte.
        shapes = [area_size(_image_size(image), config.inspection_area) for image in images]
        config = replace(config, scale=reference_scale(shapes, config),
                         reference_frame=reference_frame(shapes) if config.scale_from_references else None)
        ignored = config.inside_area().ignored_areas
        for index, image in enumerate(images):
            if cancel is not None and cancel():
                raise Cancelled()
            source = _describe(image, index)
            pixels = crop_to_area(_decoded(image, source, config.inspection_area).pixels, config.inspection_area)
            resized = float_rgb_at(pixels, target_size(*shapes[index], config), source)
            greys.append(is_grey(resized))  # before its ignored rectangles are filled from the first reference
            first = resized_refs[0] if resized_refs else None
            resized = fill_ignored(resized, to_grey(first) if greys[-1] and first is not None else first, ignored)
            del pixels
            resized_refs.append(resized)
            maps = extractor([resized])
            plain_maps.append({name: fmap[0] for name, fmap in maps.items()})
            plain.append(_flatten(maps))
            if want_rotations:
                rotated.append(_flatten(extractor(rotation_views(resized, config.rotation_steps))))
            if config.augment == "flips":
                flipped.append(_flatten(extractor(augmented_views(resized, "flips", config.rotation_steps))))
            if progress is not None:
                progress(index + 1, total)
        mode = config.augment
        if mode == "auto":
            mode = "rotations" if _rotations_help(plain, rotated, config) else "none"
        foreground = config.foreground
        if foreground == "auto":
            foreground = "on" if masking_applies(resized_refs) else "off"
        parts = plain + (rotated if mode == "rotations" else []) + (flipped if mode == "flips" else [])
        features = {name: torch.cat([p[name] for p in parts]).half().float() for name in config.layers}
        views = 1 + (config.rotation_steps - 1 if mode == "rotations" else 2 if mode == "flips" else 0)
        resolved = replace(config, augment=mode, foreground=foreground, grey_references=all(greys))
        descriptors = torch.stack([scene.scene_descriptor(m[config.layers[-1]]) for m in plain_maps])
        bank = ReferenceBank(config=resolved, features=features, reference_ids=ids, augmentation=mode,
                             view_count=views * len(images), thumbnails=[to_uint8(r) for r in resized_refs],
                             scene_descriptors=descriptors)
        if resolved.text_guidance > 0:
            library = prompts or PromptLibrary.load(GENERIC_PART)
            bank.text_embeddings = prompt_embeddings(self.backbone(resolved), library)
        extra = rotated if mode == "rotations" else flipped if mode == "flips" else []
        per_reference = [[plain[i]] + ([extra[i]] if extra else []) for i in range(len(plain))]
        calibrated = (lambda done: progress(len(images) + done, total)) if progress is not None else None
        calibration = self._calibrate(resized_refs, greys, plain_maps, per_reference, bank, cancel, calibrated)
        bank.calibration = replace(calibration, scene_limit=scene.scene_limit(descriptors))
        return bank

    def _calibrate(self, references: list[np.ndarray], greys: list[bool],
                   reference_maps: list[dict[str, torch.Tensor]],
                   per_reference: list[list[dict[str, torch.Tensor]]], bank: ReferenceBank,
                   cancel: CancelCheck | None, held_out: Callable[[int], None] | None = None) -> Calibration:
        """Normal scores by leave-one-out over the references (see ``engine.calibration``); ``greys``: which
        references were grey as loaded (``build_bank``); ``held_out(n)`` follows the hold-outs done."""
        config = bank.config.inside_area()
        guide = self._text_guide(bank)
        # Shots of one part held out together: a twin left in the bank would make its reference look perfect.
        part = same_photo_groups(references)
        single = len(set(part)) == 1
        scores: list[float] = []
        view_scores: list[float] = []
        pixels: list[np.ndarray] = []
        grey_views: list[list[dict[str, torch.Tensor]]] | None = None
        held_out_positions = held_out_indices(len(references))
        for done, held in enumerate(held_out_positions, start=1):
            image = references[held]
            if cancel is not None and cancel():
                raise Cancelled()
            if single and held > 0:
                break  # one part, however many shots: the single-reference fallback
            if single:
                view = fill_ignored(shifted_view(image), image, config.ignored_areas)
                features = {name: fmap[0] for name, fmap in self.extractor(config)([view]).items()}
                search = self._search_matrices(bank)
            else:
                view, features = image, reference_maps[held]
                pool = per_reference
                others_grey = all(grey for i, grey in enumerate(greys) if part[i] != part[held])
                in_grey = greys[held] or others_grey
                if greys[held] and not others_grey:  # held against the others made grey
                    if grey_views is None:
                        grey_views, descriptors = self._grey_views(bank)
                        self._remember_grey_twin(bank, grey_views, descriptors)
                    pool = grey_views
                elif in_grey and not greys[held]:  # the only colour one, held out made grey
                    view = to_grey(image)
                    features = {name: fmap[0] for name, fmap in self.extractor(config)([view]).items()}
                search = _views_search([parts for i, parts in enumerate(pool) if part[i] != part[held]],
                                       config.layers, self.device)
            prepared = PreparedImage(view.shape[:2], view.shape[:2], features,
                                     foreground_mask(view) if config.foreground == "on" else None)
            _, fused = self._fused_map(prepared, search, config, guide)
            scores.append(scored_image_score(fused, prepared, config))
            scored = scored_mask(prepared, config)
            pixels.append(fused[scored] if scored is not None and scored.any() else fused.ravel())
            if single:
                view_scores.append(self._cross_rotation_score(image, reference_maps[0], config, guide))
            else:
                first = to_grey(references[0]) if in_grey else references[0]
                shifted = fill_ignored(shifted_view(view), first, config.ignored_areas)
                shifted_features = {name: fmap[0] for name, fmap in self.extractor(config)([shifted]).items()}
                shifted_prepared = PreparedImage(shifted.shape[:2], shifted.shape[:2], shifted_features,
                                                 foreground_mask(shifted) if config.foreground == "on" else None)
                view_scores.append(scored_image_score(self._fused_map(shifted_prepared, search, config, guide)[1],
                                                      shifted_prepared, config))
            if held_out is not None:
                held_out(done)
        if held_out is not None and single and len(held_out_positions) > 1:
            held_out(len(held_out_positions))  # one part shot several times: the fallback held out only one
        calibration = calibrate(scores, np.concatenate(pixels), method="self-views" if single else "leave-one-out",
                                view_scores=view_scores)
        some = len(held_out_positions) < len(references) and not single
        return replace(calibration, same_photo=repeated(part), held_out=tuple(held_out_positions) if some else ())

    def _cross_rotation_score(self, image: np.ndarray, features: dict[str, torch.Tensor],
                              config: EngineConfig, guide: TextGuide | None) -> float:
        """The reference scored against a bank of only its own rotated views (the k = 1 fallback)."""
        rotated = _flatten(self.extractor(config)(rotation_views(image, 4)))
        search = {name: LayerSearch.of_rows(rotated[name], None, self.device) for name in config.layers}
        prepared = PreparedImage(image.shape[:2], image.shape[:2], features,
                                 foreground_mask(image) if config.foreground == "on" else None)
        return scored_image_score(self._fused_map(prepared, search, config, guide)[1], prepared, config)

    def _needs_grey_twin(self, prepared: PreparedImage, bank: ReferenceBank) -> bool:
        """A grey image against a bank with colour references is searched in the bank's grey twin."""
        if not prepared.grey or bank.config.grey_references:
            return False
        return not all(is_grey(t) for t in bank.thumbnails)

    def _grey_twin(self, bank: ReferenceBank) -> GreyTwin:
        """Search matrices and scene descriptors of the bank's references made grey (``engine.greyscale``).

        Made from the bank's own references (its thumbnails are them at the processing size, ignored
        rectangles filled), with its augmentation, once per bank object: the bank file stays as it is.
        """
        cache = getattr(bank, "_grey_twin_cache", None)
        if cache is None or cache[0] != self.device:
            cache = self._remember_grey_twin(bank, *self._grey_views(bank))
        return cache[1]

    def _remember_grey_twin(self, bank: ReferenceBank, views: list[list[dict[str, torch.Tensor]]],
                            descriptors: list[torch.Tensor]) -> tuple[torch.device, GreyTwin]:
        """Cache the grey twin made from ``_grey_views`` on the bank object (the calibration makes them too)."""
        matrices = _views_search(views, bank.config.layers, self.device, stored_precision=True)
        scene_descriptors = torch.stack(descriptors) if bank.scene_descriptors is not None else None
        cache = (self.device, (matrices, scene_descriptors))
        bank._grey_twin_cache = cache  # type: ignore[attr-defined]
        return cache

    def _grey_views(self, bank: ReferenceBank) -> tuple[list[list[dict[str, torch.Tensor]]], list[torch.Tensor]]:
        """Per reference of ``bank``, made grey: its flattened view features (plain, then the bank's
        augmentation) and its scene descriptor."""
        config = bank.config
        extractor = self.extractor(config)
        views: list[list[dict[str, torch.Tensor]]] = []
        descriptors = []
        for thumbnail in bank.thumbnails:
            grey = to_grey(thumbnail.astype(np.float32) / 255.0)
            plain = extractor([grey])
            descriptors.append(scene.scene_descriptor(plain[config.layers[-1]][0]))
            parts = [_flatten(plain)]
            if bank.augmentation in ("rotations", "flips"):
                parts.append(_flatten(extractor(augmented_views(grey, bank.augmentation, config.rotation_steps))))
            views.append(parts)
        return views, descriptors

    def _text_guide(self, bank: ReferenceBank) -> TextGuide | None:
        """The bank's Text-Guided Enhancer, made once per bank object; None when text guidance is off."""
        if bank.config.text_guidance <= 0 or bank.text_embeddings is None:
            return None
        cache = getattr(bank, "_text_guide_cache", None)
        if cache is None:
            backbone = self.backbone(bank.config)
            cache = TextGuide.for_backbone(backbone, bank.text_embeddings, bank.config.text_guidance,
                                           backbone.available_layers()[-1])
            bank._text_guide_cache = cache  # type: ignore[attr-defined]
        return cache

    def _search_matrices(self, bank: ReferenceBank) -> dict[str, LayerSearch]:
        """Per-layer search matrices of the bank on this device, made once per bank object."""
        cache = getattr(bank, "_search_cache", None)
        if cache is None or cache[0] != self.device:
            matrices = {name: _bank_search(bank, f, self.device) for name, f in bank.features.items()}
            cache = (self.device, matrices)
            bank._search_cache = cache  # type: ignore[attr-defined]
        return cache[1]


def _decoded(image: ImageInput, source: str, area: Area | None = None) -> DecodedImage:
    """A file decoded for inspection (``decode_for_inspection``, keeping ``area``'s detail), or an
    array as it is, with the size results are given in; checked to be a usable image either way."""
    if isinstance(image, (str, Path)):
        image = decode_for_inspection(image, area_share(area))
    elif not isinstance(image, DecodedImage):
        pixels = np.asarray(image)
        image = DecodedImage(pixels, pixels.shape[:2])
    check_pixels(image.pixels, source)
    return image


def _image_size(image: ImageInput) -> tuple[int, int]:
    """The (h, w) results are given in, from a file's header when it is a path."""
    if isinstance(image, (str, Path)):
        return image_shape(image)
    return image.size if isinstance(image, DecodedImage) else np.asarray(image).shape[:2]


def _ignored_fill(bank: ReferenceBank) -> np.ndarray | None:
    """What covers the ignored areas of an inspected image: the first reference, as stored in the bank."""
    if not bank.config.ignored_areas or not bank.thumbnails:
        return None
    return bank.thumbnails[0].astype(np.float32) / 255.0


def scored_mask(prepared: PreparedImage, config: EngineConfig) -> np.ndarray | None:
    """Where the map counts: the part (when foreground masking is on) within the inspection area,
    less the ignored rectangles.  None when every pixel counts.
    """
    mask = prepared.foreground if config.foreground == "on" else None
    area = scored_pixels(prepared.processing_size, config.inspection_area, config.ignored_areas)
    if area is not None:
        mask = area if mask is None else (mask.astype(bool) & area)
    return mask


def scored_image_score(fused: np.ndarray, prepared: PreparedImage, config: EngineConfig) -> float:
    """The image score: the mean of the top ``top_fraction`` of the *scored* pixels (the part, within
    the inspection area, less ignored rectangles; the whole map where everything counts).

    Taken over the scored pixels rather than the frame, a part's score does not depend on how
    much background or masked area surrounds it: a screw filling a fifth of the frame was scored
    on the top 5 % of its own pixels, diluting a small thread defect (screw 0.553 to 0.559 and
    hazelnut 0.979 to 1.000 image AUROC at 4 shots, seeds 0-2; packs without a mask unchanged).
    """
    scored = scored_mask(prepared, config)
    values = fused[scored.astype(bool)] if scored is not None and scored.any() else fused
    return image_score(values, config.top_fraction)


def _scale(processing: tuple[int, int], config: EngineConfig) -> float:
    """Smoothing scales with the processing size so that it covers the same part of the image."""
    return float(np.sqrt(processing[0] * processing[1])) / float(config.input_side)


def _views_search(views: list[list[dict[str, torch.Tensor]]], layers: Sequence[str], device: torch.device,
                  stored_precision: bool = False) -> dict[str, LayerSearch]:
    """Per layer, the search over references given as their views (as taken, then augmented);
    ``stored_precision`` rounds the features to the bank file's float16, as a built bank is."""
    def rows(parts: list[dict[str, torch.Tensor]], name: str) -> torch.Tensor | None:
        if not parts:
            return None
        joined = torch.cat([part[name] for part in parts])
        return joined.half().float() if stored_precision else joined

    return {name: LayerSearch.of_rows(rows([parts[0] for parts in views], name),
                                      rows([part for parts in views for part in parts[1:]], name), device)
            for name in layers}


def _bank_search(bank: ReferenceBank, rows: torch.Tensor, device: torch.device) -> LayerSearch:
    """A bank layer's rows (the references as taken, then their augmented views) split for the search.

    Every view of a reference has as many patches as the reference (a quarter turn swaps the
    sides), so the first 1 / views of the rows are the references as taken.  A bank whose view
    count does not divide its rows (none that this engine writes) is searched as one.
    """
    views = bank.view_count // bank.image_count if bank.image_count and bank.view_count else 1
    if views <= 1 or len(rows) % views:
        return LayerSearch.of_rows(rows, None, device)
    as_taken = len(rows) // views
    return LayerSearch.of_rows(rows[:as_taken], rows[as_taken:], device)


def _flatten(features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """(N, C, h, w) maps to (N*h*w, C) rows."""
    return {k: v.permute(0, 2, 3, 1).reshape(-1, v.shape[1]) for k, v in features.items()}


def _describe(image: ImageInput, index: int) -> str:
    return str(image) if isinstance(image, (str, Path)) else f"array-{index}"


def _rotations_help(plain: list[dict[str, torch.Tensor]], rotated: list[dict[str, torch.Tensor]],
                    config: EngineConfig) -> bool:
    """Leave-one-out test: do rotated views of the other references explain each reference better?

    With one reference there is nothing to compare, and rotations are kept: a false alarm from
    an unexpected orientation costs a technician more than a slightly more tolerant bank.
    """
    if len(plain) < 2:
        return True
    ratios = []
    for held in range(len(plain)):
        others = [i for i in range(len(plain)) if i != held]
        plain_score = _loo_score(plain[held], [plain[i] for i in others], config)
        rotated_score = _loo_score(plain[held], [plain[i] for i in others] + [rotated[i] for i in others], config)
        ratios.append(rotated_score / max(plain_score, 1e-6))
    return float(np.median(ratios)) <= ROTATION_GAIN_RATIO


def _loo_score(held: dict[str, torch.Tensor], others: list[dict[str, torch.Tensor]], config: EngineConfig) -> float:
    """Mean over layers of the held-out image's top patch distances against the others."""
    values = []
    for name in config.layers:
        flat = nearest_distance(held[name], search_layout(torch.cat([o[name] for o in others]), held[name].device),
                                config.chunk_size)
        count = max(1, int(round(flat.numel() * max(config.top_fraction, 0.05))))
        values.append(float(flat.topk(count).values.mean()))
    return float(np.mean(values))


def held_out_indices(count: int) -> list[int]:
    """Which of ``count`` references are held out in turn for the threshold: all of them up to
    ``MAX_HELD_OUT``, else that many spread evenly over the set (the first and the last included).

    Each hold-out searches a bank of all the others, so holding out every one of a large set grows with
    its square: 64 references took 42 s to build against 2.6 s for 8.  Sixteen hold-outs give 32 normal
    scores, more than the benchmark's sets of up to 8 references ever have.
    """
    if count <= MAX_HELD_OUT:
        return list(range(count))
    return sorted({round(i * (count - 1) / (MAX_HELD_OUT - 1)) for i in range(MAX_HELD_OUT)})
