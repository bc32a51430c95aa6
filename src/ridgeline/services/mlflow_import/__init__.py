"""Import from MLflow: a tracking server, its database or an mlruns folder, through one reader interface."""

from ridgeline.services.mlflow_import.importer import MlflowImportSummary, import_mlflow, open_source
from ridgeline.services.mlflow_import.model import MlflowSource

__all__ = ["MlflowImportSummary", "MlflowSource", "import_mlflow", "open_source"]
