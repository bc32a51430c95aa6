"""Import from MLflow: a tracking server, its database or an mlruns folder, through one reader interface."""

from ridgeline.services.mlflow_import.importer import import_mlflow, open_source
from ridgeline.services.mlflow_import.model import MlflowSource
from ridgeline.services.mlflow_import.summary import MlflowImportSummary

__all__ = ["MlflowImportSummary", "MlflowSource", "import_mlflow", "open_source"]
