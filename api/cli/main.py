"""Entry point of the `devia` console script: wires the command modules into groups.

Each command module imports its heavy dependencies (torch, llama.cpp, Qdrant) inside its
commands, so `devia --help` stays fast.
"""

from __future__ import annotations

import typer

from api.cli import (
    claims_cmd,
    demo_cmd,
    eval_cfr_cmd,
    eval_docqa_cmd,
    eval_report_cmd,
    index_cmd,
    ingest_cmd,
    investigate_cmd,
    llm_cmd,
    models_cmd,
    search_cmd,
    serve_cmd,
    similar_cmd,
    users_cmd,
    worker_cmd,
)

app = typer.Typer(
    name="devia",
    help="devia: assistant for GMP deviation investigations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

eval_app = typer.Typer(help="Evaluation suites on real public data; --json writes metrics.")
eval_app.command("recalls")(similar_cmd.eval_recalls)
eval_app.command("claims")(claims_cmd.eval_claims)
eval_app.command("plant")(investigate_cmd.eval_plant)
eval_app.command("cfr-qa")(eval_cfr_cmd.eval_cfr_qa)
eval_app.command("di-qa")(eval_docqa_cmd.eval_di_qa)
eval_app.command("q3c-tables")(eval_docqa_cmd.eval_q3c_tables)
eval_app.command("faithfulness")(eval_docqa_cmd.eval_faithfulness)
eval_app.command("report")(eval_report_cmd.eval_report)

bench_app = typer.Typer(help="Benchmarks (medians of several runs); --json writes metrics.")
bench_app.command("llm")(llm_cmd.bench_llm)
bench_app.command("ingest")(ingest_cmd.bench_ingest)
bench_app.command("search")(search_cmd.bench_search)
bench_app.command("api")(serve_cmd.bench_api)
bench_app.command("draft")(investigate_cmd.bench_draft)

app.command("ingest")(ingest_cmd.ingest)
app.command("search")(search_cmd.search)
app.command("similar")(similar_cmd.similar)
app.command("investigate")(investigate_cmd.investigate)
app.command("chat")(investigate_cmd.chat)
app.command("serve")(serve_cmd.serve)
app.command("worker")(worker_cmd.worker)
app.command("migrate")(serve_cmd.migrate_db)
app.add_typer(models_cmd.app, name="models")
app.add_typer(users_cmd.app, name="users")
app.add_typer(demo_cmd.app, name="demo")
app.add_typer(index_cmd.app, name="index")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")


def main() -> None:
    app()
