#!/usr/bin/env python3
"""Replays real Open311 records through a running Gorod's Open311 POST.

Reads a GeoReport v2 request list (JSON, optionally gzip-compressed; by
default Boston's 20,000-record sample in ../shared/data), maps each record's
service to a demo category and its point from Boston into the demo city
(Tverskoy district), posts it to /open311/v2/requests.json, and prints how
many were accepted and, grouped by reason, why the others were refused.

Standard library only. Example:
    scripts/replay-open311.py --url http://127.0.0.1:8080 --limit 2000
"""

import argparse
import collections
import concurrent.futures
import gzip
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FILE = os.path.join(HERE, "..", "..", "shared", "data", "boston_open311_sample_20k.json.gz")

# Boston's five service types, as the demo city's categories.
CATEGORIES = {
    "Illegal Parking": "other",
    "Other": "other",
    "Sidewalk Not Shoveled": "snow_road",
    "Abandoned Vehicle": "other",
    "Unsafe Dangerous Conditions": "sidewalk_damage",
}

# Boston's extent is stretched onto a rectangle inside the demo's Tverskoy
# district; a point far outside Boston lands far outside the city, and the
# server must refuse it.
BOSTON = {"lat": (42.22, 42.41), "long": (-71.20, -70.98)}
TVERSKOY = {"lat": (55.7600, 55.7800), "long": (37.5970, 37.6180)}


def move(value, axis):
    (a0, a1), (b0, b1) = BOSTON[axis], TVERSKOY[axis]
    return b0 + (value - a0) / (a1 - a0) * (b1 - b0)


def form_for(record, api_key):
    fields = [("api_key", api_key), ("service_code", CATEGORIES.get(record.get("service_name"), "other"))]
    if record.get("lat") is not None and record.get("long") is not None:
        fields += [("lat", "%.7f" % move(record["lat"], "lat")), ("long", "%.7f" % move(record["long"], "long"))]
    if record.get("description"):
        fields.append(("description", record["description"]))
    if record.get("address"):
        fields.append(("address_string", record["address"]))
    return urllib.parse.urlencode(fields).encode()


def post(url, body):
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        return 0, str(error).encode()


def reason(status, body):
    """A refusal's reason without its particular values, for grouping."""
    try:
        description = json.loads(body)[0]["description"]
    except (ValueError, KeyError, IndexError, TypeError):
        description = body.decode("utf-8", "replace")[:80]
    field, _, rest = description.partition(":")
    if "outside the city's service areas" in rest:
        rest = "the point is outside the city's service areas"
    elif "characters long" in rest:
        rest = "the description is too long"
    return "%s %s: %s" % (status, field.strip(), rest.strip())


def progress(done, total, accepted, started):
    width = 30
    filled = width * done // max(total, 1)
    rate = done / max(time.time() - started, 1e-9)
    sys.stderr.write("\r[%s%s] %d/%d  accepted %d  %.0f/s " % ("#" * filled, "." * (width - filled), done, total, accepted, rate))
    sys.stderr.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the running Gorod")
    parser.add_argument("--api-key", default="demo-open311-key")
    parser.add_argument("--file", default=DEFAULT_FILE, help="a GeoReport request list, .json or .json.gz")
    parser.add_argument("--limit", type=int, default=0, help="replay only the first N records")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--summary-json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()

    opener = gzip.open if args.file.endswith(".gz") else open
    with opener(args.file, "rt", encoding="utf-8") as f:
        records = json.load(f)
    if args.limit:
        records = records[: args.limit]
    endpoint = args.url.rstrip("/") + "/open311/v2/requests.json"

    accepted = 0
    refused = collections.Counter()
    statuses = collections.Counter()
    lock = threading.Lock()
    started = time.time()
    done = 0

    def one(record):
        return post(endpoint, form_for(record, args.api_key))

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.workers) as pool:
        for status, body in pool.map(one, records):
            with lock:
                done += 1
                statuses[status] += 1
                if status == 200:
                    accepted += 1
                else:
                    refused[reason(status, body)] += 1
                if done % 50 == 0 or done == len(records):
                    progress(done, len(records), accepted, started)
    sys.stderr.write("\n")

    elapsed = time.time() - started
    if args.summary_json:
        print(json.dumps({"records": len(records), "accepted": accepted, "refused": dict(refused),
                          "statuses": {str(k): v for k, v in statuses.items()}, "seconds": elapsed}))
    else:
        print("%d records in %.1f s: %d accepted, %d refused" % (len(records), elapsed, accepted, len(records) - accepted))
        for why, count in refused.most_common():
            print("  %6d  %s" % (count, why))
    return 0 if all(s in (200, 400, 403, 404) for s in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())
