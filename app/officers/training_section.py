"""What the officer detail page shows of training, exams and annual reviews (three queries)."""

from __future__ import annotations

from typing import Any

from app.exams.services import officer_exams
from app.reviews.services import officer_reviews
from app.settings.services import get
from app.training.services import officer_training


def officer_context(officer_id: int) -> dict[str, Any]:
    return {
        "training_years": officer_training(officer_id),
        "exam_history": officer_exams(officer_id),
        "annual_reviews": officer_reviews(officer_id),
        "hours_required": float(get("training_hours_required")),
    }
