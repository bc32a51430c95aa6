"""Production monitoring: monitors, ingestion of predictions and actuals, reports and alerts
(service.MonitoringService is the entry point; the statistics are monitoring/'s)."""
