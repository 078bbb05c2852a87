from app.cli import run_area

run_area("reports")
