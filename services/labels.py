"""Naming a region's defect type once, so later regions of the project get it by nearest neighbour.

The example (the region's descriptor and the name) goes into the project's settings; the
inspection's stored fact sheet takes the name too, with an audit record.
"""

from __future__ import annotations

from db import repository as repo
from db.models import Project
from engine.facts import FactSheet
from services.workspace import Workspace


def label_region(workspace: Workspace, inspection_id: int, region_index: int, label: str) -> str:
    """Store ``label`` as the type of region ``region_index`` (1-based) of an inspection; returns the label."""
    label = label.strip().lower()
    if not label:
        raise ValueError("A defect type needs a name, e.g. 'scratch'.")
    with workspace.database.write() as session:
        row = repo.get_inspection(session, inspection_id)
        facts = FactSheet.from_dict(row.facts)
        if not 1 <= region_index <= facts.region_count:
            raise ValueError(f"Inspection {inspection_id} has {facts.region_count} region(s); "
                             f"there is no region {region_index}.")
        region = facts.regions[region_index - 1]
        region.defect_type = label
        row.facts = facts.to_dict()
        project = session.get(Project, row.project_id)
        examples = list(project.settings.get("type_examples", []))
        examples.append({"descriptor": [float(v) for v in region.descriptor()], "label": label,
                         "inspection": inspection_id, "region": region_index})
        repo.update_project(session, project, workspace.operator, settings={**project.settings,
                                                                              "type_examples": examples})
        repo.audit(session, workspace.operator, "label", "region", inspection_id,
                   {"region": region_index, "type": label})
    return label
