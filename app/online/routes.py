"""Staff pages of the online exams: the bank, an exam's paper, window, monitor and results."""

from __future__ import annotations

from app.online import api as _api  # noqa: F401  (the exam room's page and JSON API)
