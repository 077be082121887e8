"""The reference client: confluent-kafka (librdkafka 2.16) lists the cluster's brokers.

Usage: reference_client.py BOOTSTRAP CA_FILE SECURITY_PROTOCOL [TIMEOUT_SECONDS]
Prints {"brokers": ["host:port", ...], "elapsed_ms": N} or {"error": "..."} as one JSON line.
"""
import json
import sys
import time

from confluent_kafka.admin import AdminClient


def main() -> int:
    bootstrap, ca_file, protocol = sys.argv[1:4]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    client = AdminClient(
        {
            "bootstrap.servers": bootstrap,
            "security.protocol": protocol,
            "ssl.ca.location": ca_file,
            "client.id": "kreach-reference",
        }
    )
    started = time.monotonic()
    try:
        metadata = client.list_topics(timeout=timeout)
    except Exception as exc:  # the test shows whatever went wrong
        print(json.dumps({"error": str(exc)}))
        return 1
    brokers = sorted(f"{b.host}:{b.port}" for b in metadata.brokers.values())
    elapsed_ms = round((time.monotonic() - started) * 1000)
    print(json.dumps({"brokers": brokers, "cluster_id": metadata.cluster_id, "elapsed_ms": elapsed_ms}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
