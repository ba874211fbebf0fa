"""The CLIP prompts of a project's part: the curated library plus those the local model wrote, cached.

Writing takes the language model about a minute on a 2-core CPU (18 questions), so it is done once, when
asked, and the kept prompts go into the project's settings (they travel with a project file).
They were written for the part's name at the time: after a rename they are no longer used, and
the curated library alone types the regions until they are written again.
"""

from __future__ import annotations

from typing import Any

from db import repository as repo
from db.models import Project
from engine.backbones import is_clip
from engine.detector import CancelCheck, ProgressCallback
from engine.explain.llm import LocalLLM
from engine.prompt_writer import WrittenPrompts, extended_library, llm_asker, write_prompts
from engine.prompts import PromptLibrary
from services.workspace import Workspace

SETTINGS_KEY = "written_prompts"


def written_prompts(project: Project) -> WrittenPrompts | None:
    """The prompts the model wrote for this project's part under its current name, or None."""
    data = project.settings.get(SETTINGS_KEY)
    if not data:
        return None
    written = WrittenPrompts.from_dict(data)
    return written if written.object_name == project.name else None


def project_prompt_library(project: Project) -> PromptLibrary:
    """The prompts that type this project's regions on a CLIP backbone."""
    return extended_library(PromptLibrary.load(project.name), written_prompts(project))


def describe_prompts(project: Project) -> str:
    """One line for the References page and ``project show``: where the project's prompts come from."""
    curated = PromptLibrary.load(project.name).prompt_count()
    written = written_prompts(project)
    if written is None:
        stale = project.settings.get(SETTINGS_KEY)
        note = f" (those written for '{stale['object_name']}' no longer apply)" if stale else ""
        return f"{curated} curated prompts{note}"
    return f"{curated} curated + {written.kept} written by {written.model}"


def prompt_project(workspace: Workspace, project_name: str) -> str:
    """The project's name when prompts can be written for it (a CLIP backbone); ValueError otherwise."""
    with workspace.database.read() as session:
        project = repo.get_project(session, project_name)
        name, backbone = project.name, project.backbone
    if not is_clip(backbone):
        raise ValueError(f"Project '{name}' uses {backbone}, which has no text tower: written prompts type "
                         f"defects only on a clip: backbone.")
    return name


def write_project_prompts(workspace: Workspace, project_name: str, llm: LocalLLM,
                          progress: ProgressCallback | None = None,
                          cancel: CancelCheck | None = None) -> WrittenPrompts:
    """Have ``llm`` write prompts for the project's part and keep them in its settings (audited).

    Only a project on a CLIP backbone uses prompts; any other is refused before the model runs.
    A cancelled run stores nothing and leaves the earlier prompts in place.
    """
    name = prompt_project(workspace, project_name)
    written = write_prompts(llm_asker(llm), name, PromptLibrary.load(name), llm.name, progress, cancel)
    with workspace.database.write() as session:
        project = repo.get_project(session, name)
        settings: dict[str, Any] = {**project.settings, SETTINGS_KEY: written.to_dict()}
        repo.update_project(session, project, workspace.operator, settings=settings)
    return written
