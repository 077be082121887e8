"""The reference client: confluent-kafka (librdkafka 2.16) lists the cluster's brokers.

Usage: reference_client.py BOOTSTRAP CA_FILE SECURITY_PROTOCOL
Prints {"brokers": ["host:port", ...]} or {"error": "..."} as one JSON line.
"""
import json
import sys

from confluent_kafka.admin import AdminClient


def main() -> int:
    bootstrap, ca_file, protocol = sys.argv[1:4]
    client = AdminClient(
        {
            "bootstrap.servers": bootstrap,
            "security.protocol": protocol,
            "ssl.ca.location": ca_file,
            "client.id": "kreach-reference",
        }
    )
    try:
        metadata = client.list_topics(timeout=10)
    except Exception as exc:  # the test shows whatever went wrong
        print(json.dumps({"error": str(exc)}))
        return 1
    brokers = sorted(f"{b.host}:{b.port}" for b in metadata.brokers.values())
    print(json.dumps({"brokers": brokers, "cluster_id": metadata.cluster_id}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
