from app.cli import AREA_COMMANDS, run_area

run_area("notifier", lazy={"kpi": AREA_COMMANDS["kpi"]})
