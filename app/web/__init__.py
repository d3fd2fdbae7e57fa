"""The web layer shared by every module's routes: request arguments, paging, list specs
(filters, sort, export). Routes import from here and from services, never from other routes."""
