"""An Airflow-style publish step: the task's run id is the publish id, so a retried task makes
one version, never two. Run it as `python publish_step.py ADDRESS TOPIC FILE RUN_ID`."""

import sys
from pathlib import Path

from imprint_client import Client
from imprint_client.publisher import Publisher


def publish_model(address: str, topic: str, path: str, run_id: str) -> int:
    with Client(address, app="model-build") as client:
        published = Publisher(client).publish(
            topic,
            Path(path),
            metadata={"airflow.run_id": run_id},
            publish_id=run_id,  # the same on every retry of this task
            on_progress=lambda n, total: print(f"{n}/{total} bytes", file=sys.stderr),
        )
    print(f"{topic} v{published.record.version} (replayed: {published.replayed})")
    return published.record.version


if __name__ == "__main__":
    publish_model(*sys.argv[1:5])
