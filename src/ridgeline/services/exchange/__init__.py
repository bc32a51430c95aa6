"""Projects in and out of Ridgeline: the export folder format, and the sink every importer writes through."""

from ridgeline.services.exchange.export import ExportSummary, export_project
from ridgeline.services.exchange.folder_import import ImportSummary, import_folder
from ridgeline.services.exchange.format import Progress, read_manifest

__all__ = ["ExportSummary", "ImportSummary", "Progress", "export_project", "import_folder", "read_manifest"]
