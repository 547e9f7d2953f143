"""Child process of the durability tests: runs one investigation on a checkpoint file, slowly,
so the parent can kill it mid-draft (python -m tests.agent.child_run CHECKPOINT WORKDIR)."""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.agent.checkpoint import open_checkpointer
from assistant.agent.runner import InvestigationRunner
from tests.agent.corpus import careful_model, mes_payload, unit_context


def main() -> None:
    checkpoint, workdir = Path(sys.argv[1]), Path(sys.argv[2])
    context = unit_context(workdir, careful_model(token_delay_s=0.05))
    with open_checkpointer(checkpoint) as saver:
        InvestigationRunner(context, saver).start(
            "inv-killed", {"payload": mes_payload()}, ["SITE-A"]
        )


if __name__ == "__main__":
    main()
