"""Follower KPI of the city's official SNS accounts (action plan No. 5).

Daily snapshots per channel account, read from the notifier's channels (`follower_sources`,
`follower_collector`; `collection_job` is a periodic job of the delivery workers), history from CSV
(`history_import`), the plan's targets (`targets`), a report over the stored rows (`series`, `report`,
`report_loader`), charts (`chart`), the JSON/CSV/chart API and staff page (`kpi_api`) and `suita kpi …`
(`kpi_cli`).
"""
