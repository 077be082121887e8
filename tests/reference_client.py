"""The reference client: confluent-kafka (librdkafka 2.16) lists the cluster's brokers.

Usage: reference_client.py BOOTSTRAP CA_FILE SECURITY_PROTOCOL [TIMEOUT_SECONDS [PROPERTIES_FILE]]
A properties file (key=value lines, as kcat -F and kreach --config read) adds to and overrides the
other settings.
Prints {"brokers": ["host:port", ...], "elapsed_ms": N} or {"error": "..."} as one JSON line.
"""
import json
import sys
import time

from confluent_kafka.admin import AdminClient


def main() -> int:
    bootstrap, ca_file, protocol = sys.argv[1:4]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    config = {
        "bootstrap.servers": bootstrap,
        "security.protocol": protocol,
        "ssl.ca.location": ca_file,
        "client.id": "kreach-reference",
    }
    if len(sys.argv) > 5:
        with open(sys.argv[5], encoding="utf-8") as properties:
            for line in properties:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    key, value = line.split("=", 1)
                    config[key.strip()] = value.strip()
    client = AdminClient(config)
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
