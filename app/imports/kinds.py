"""Every kind the import centre offers: the modules that register an importer, imported here (so
the registry in app/importing/base.py is full wherever the centre is loaded) in the order the web
page and `flask import --help` list them. A new kind of data: its module, added to MODULES."""

from __future__ import annotations

from app.cases import imports as case_imports
from app.exams import imports as exam_imports
from app.importing.base import get_importer, importers, set_order
from app.imports import services as centre_imports
from app.officers import imports as officer_imports
from app.officers import move_imports
from app.online import imports as online_imports
from app.training import imports as training_imports

MODULES = [officer_imports, centre_imports, training_imports, exam_imports, case_imports,
           online_imports, move_imports]
set_order(module.__name__ for module in MODULES)

__all__ = ["MODULES", "get_importer", "importers"]
