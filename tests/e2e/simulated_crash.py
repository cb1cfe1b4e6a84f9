"""Leave in the app's database what a crash mid-generation leaves.

Run as `python -m tests.e2e.simulated_crash` with the app's environment, before
the server starts; prints what it left as JSON.
"""

from __future__ import annotations

import json
from datetime import timedelta

from tests.factories import crashed_generation, make_account, stray_file


def main() -> None:
    account = make_account(email="crashed@example.com")
    row = crashed_generation(account.user_id, age=timedelta(hours=2))
    print(json.dumps({"public_id": row.public_id, "stray_key": stray_file(age_seconds=7200)}))


if __name__ == "__main__":
    main()
