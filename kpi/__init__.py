"""Follower KPI of the city's official SNS accounts (action plan No. 5).

Daily snapshots per channel account, read from the notifier's channels (`sources`, `collect`; `job`
is a periodic job of the delivery workers), history from CSV (`importer`), the plan's targets
(`targets`), a report over the stored rows (`series`, `report`), charts (`chart`), the JSON/CSV/chart
API and staff page (`api`) and `python -m notifier kpi ...` (`cli`).
"""
