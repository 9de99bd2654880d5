"""``micromoments demo``: the serverless pipeline end to end, on the local stand-ins.

It starts `LocalRuntime` (moto's server and the Calendar API server on free loopback
ports; with ``provider`` microsoft, the Graph server instead), seeds a synthetic
organisation (calendars on that server, people and org settings in the Store, with
``calendar_provider`` microsoft on Graph), then runs the pipeline as the cloud runs it: the
dispatch handler (what the hourly schedule invokes) fills the scan queue, and the queue is
drained in batches of 10 into the scan handler, SQS-shaped, deleting a message unless the
handler reports it in ``batchItemFailures``. Everything goes through the real boto3 and
google-api-python-client over HTTP, Google's on the service-account delegation path (on
Graph: the Graph gateway over HTTP, app-only, its client secret from Secrets Manager).

The pipeline runs four times in one process. The first run syncs and places holds. The
second is the weekly pairing as its schedule invokes it: the pair handler plans the coming
ISO week's coffee chats and team watercooler drop-ins and queues their organisers, whose
scans (the queue drained as above) insert the shared events; the Calendar server copies
them to the attendees' calendars (the Graph server once it delivers attendee copies). Our
own inserts then come back through the next incremental sync, which stores them in the
mirror (docs/decisions.md, "What unchanged means for a rescan"): the third run absorbs
that echo. The fourth run is the unchanged rescan the summary's ``second_run_writes``
measures: Calendar writes (the server's write log) plus Store writes other than leases
(counted on the Store's DynamoDB client; on Graph they include the new delta link each
person's sync state stores, ``second_run.sync_state_writes``). Off-days: dispatch sends
only people whose local day is a workday; the demo queues the others itself, so every scan
run scans everyone on any day. Last, on Google only, the push path is measured (`push`);
on Graph the summary says it was skipped.

It writes ``index.html`` (the organisation's week in plain language; per person, what
changed, why nothing was placed where a day needed it and one week after the runs, with
labelled holds: kinds and times only, never titles; the engineering figures collapsed at
the end) and ``summary.json`` into the output directory, which a lock
file keeps to one demo at a time. Both carry the care outcomes of the runs (breathers
after back-to-back runs, social moments every week, the coffee pool paired, misplaced
holds; `micromoments.local.care` defines them), measured from the first run's start.

The package, one concern a module: `runner` (the demo from start to finish), `pipeline`
(the runs), `store_writes` (counting the Store's writes), `digests`, `calendars` (the
org's calendars as the demo sees them, one facade on either server: `google_calendars`,
`graph_calendars`), `week` (the simulated week), `picture` (the picture model),
`connection` (the coffee chats and drop-ins), `results` (the summary's figures and the
care outcomes), `push` (the push path, Google only), `summary` (the terminal's text),
`report` (the people's view on the page), `page` (index.html, from
``templates/report/``), `handover` and `oauth_connect` (Google's OAuth) and `lock` (one
demo at a time).
"""

from micromoments.local.demo.lock import DemoBusy, DemoFailed, DemoLock
from micromoments.local.demo.runner import DEFAULT_OUT, DEFAULT_PEOPLE, SEED, run_demo
from micromoments.local.demo.summary import render_summary

__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_PEOPLE",
    "SEED",
    "DemoBusy",
    "DemoFailed",
    "DemoLock",
    "render_summary",
    "run_demo",
]
