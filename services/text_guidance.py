"""A project's text guidance: IAD-GPT's Text-Guided Enhancer (``engine.text_guidance``) on or off.

Only a project on a CLIP backbone can use it, since it needs the text tower.  On, the project's
engine settings carry the enhancer's weight; off, they carry nothing, so a project that never
turned it on keeps its bank.  Either change rebuilds the bank at the next build or inspection.
"""

from __future__ import annotations

from db import repository as repo
from db.models import Project
from engine.backbones import is_clip
from engine.errors import TextGuidanceError
from engine.text_guidance import DEFAULT_WEIGHT
from services.workspace import Workspace

SETTING = "text_guidance"


def project_text_guidance(project: Project) -> bool:
    """Whether the project's inspections are weighted by its prompts."""
    return bool(project.settings.get("engine", {}).get(SETTING))


def set_text_guidance(workspace: Workspace, project_name: str, on: bool) -> None:
    """Turn text guidance on or off; raises ``TextGuidanceError`` for a project without a CLIP backbone."""
    with workspace.database.write() as session:
        project = repo.get_project(session, project_name)
        if on and not is_clip(project.backbone):
            raise TextGuidanceError(project.backbone, "only a CLIP backbone has the text tower it needs")
        before = project.settings.get("engine", {})
        engine = {k: v for k, v in before.items() if k != SETTING}
        if on:
            engine[SETTING] = DEFAULT_WEIGHT
        if engine != before:
            repo.update_project(session, project, workspace.operator, settings={**project.settings, "engine": engine})
