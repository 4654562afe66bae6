"""The fine-tuning router: builds the record of a finished model and saves it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter

from ..globals import global_manager

router = APIRouter(prefix="/finetune")


def finetuning_task(output_dir: str, description: str | None = None) -> None:
    settings = global_manager.settings_builder
    model_data = {
        "model_name": settings.model_name,
        "base_model": settings.base_model,
        "task": settings.task,
        "description": description or f"{settings.task} fine-tune of {settings.base_model}",
        "creation_date": datetime.now(timezone.utc).isoformat(),
        "model_path": output_dir,
        "is_custom_base_model": settings.is_custom_model,
    }
    model_id = global_manager.db_manager.add_model(model_data)
    global_manager.db_manager.start_run(
        {"model_id": model_id, "status": "finished", "started_at": model_data["creation_date"]}
    )


@router.get("/models")
async def list_models() -> dict[str, Any]:
    rows = global_manager.db_manager.get_all_models()
    return {"models": [{"id": r[0], "model_name": r[1]} for r in rows]}
