"""A refresh's progress on stderr: jobs done, running, failed and skipped (tqdm)."""

from __future__ import annotations

import sys

from chipcast.pipeline.kernel import Job, JobResult


class Progress:
    """Counts jobs as the runner starts and finishes them; a bar only when enabled."""

    def __init__(self, total: int, skipped: int, enabled: bool):
        self.running = self.done = self.failed = 0
        self.skipped = skipped
        self.bar = None
        if enabled and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="job", file=sys.stderr, dynamic_ncols=True)
            self._post()

    def _post(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix(running=self.running, failed=self.failed, skipped=self.skipped)

    def start(self, job: Job) -> None:
        self.running += 1
        self._post()

    def finish(self, res: JobResult) -> None:
        self.running -= 1
        self.done += 1
        self.failed += res.status != "ran"
        if self.bar is not None:
            self.bar.update(1)
            self._post()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
