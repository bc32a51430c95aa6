"""What ``ridgeline import mlflow`` did (or, in a dry run, would do): counts and problems, for the CLI's table."""

from __future__ import annotations

from dataclasses import dataclass, field

from ridgeline.services.exchange.records import RunOutcome, RunState


@dataclass
class MlflowImportSummary:
    source: str
    dry_run: bool = False
    experiments: int = 0
    projects_created: int = 0
    runs_new: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    runs_elsewhere: int = 0
    points: int = 0
    artifacts_copied: int = 0
    artifact_bytes: int = 0
    datasets_created: int = 0
    versions_created: int = 0
    logged_models: int = 0
    models: int = 0
    model_versions: int = 0
    aliases: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, what: str, outcome: RunOutcome) -> None:
        """Count a run written by the sink (or files added to one); ``what`` names it in problems."""
        self.runs_new += outcome.state is RunState.NEW
        self.runs_updated += outcome.state is RunState.UPDATED
        self.runs_unchanged += outcome.state is RunState.UNCHANGED
        self.add_files(what, outcome)
        self.points += outcome.points
        self.datasets_created += outcome.datasets_created
        self.versions_created += outcome.versions_created

    def add_files(self, what: str, outcome: RunOutcome) -> None:
        self.artifacts_copied += outcome.artifacts_copied
        self.artifact_bytes += outcome.artifact_bytes
        self.problems += [f"{what}: artifact {problem}" for problem in outcome.problems]
