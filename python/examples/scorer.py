"""A scorer-style subscriber: the model is a JSON object of weights, swapped in whole while
requests keep reading it. Run it as `python scorer.py ADDRESS TOPIC`."""

import json
import sys
import time

from imprint_client import Client
from imprint_client.subscriber import Subscriber, Subscription, identity

Weights = dict[str, float]


def decode(payload: bytes) -> Weights:
    return {name: float(w) for name, w in json.loads(payload).items()}


def main(address: str, topic: str) -> None:
    with Client(address, app="scorer") as client, Subscriber(client, identity("scorer", region="eu-west-1"), interval_s=5) as subscriber:
        model: Subscription[Weights] = subscriber.subscribe(
            topic,
            decode=decode,  # bytes -> the model; an exception rejects the version
            default={},  # scores 0 until the first version loads
            validate=lambda w: "clicks" in w,  # False rejects the version; the old model stays
        )
        model.on_swap(lambda version, _w: print(f"now serving {topic} v{version}"))
        if not model.ready(timeout=30):
            print("no version yet; scoring with the default", file=sys.stderr)
        for _ in range(3):
            weights: Weights = model.current  # one reference read: a whole model, old or new
            print("score", sum(weights.get(f, 0.0) for f in ("clicks", "age")))
            time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
