"""The doctor's checks of a Microsoft 365 org (``calendar_provider`` microsoft): is the app
fenced in by the Exchange application access policy (docs/deploy.md, "Microsoft 365",
step 3), and can it reach the people it must?

- ``access policy``: a mailbox known to be outside the opted-in group (``doctor --outside
  ADDRESS``) is refused, 403 ``ErrorAccessDenied``. Read, it fails: without the policy
  the app's ``Calendars.ReadWrite`` reaches every mailbox of the tenant.
- ``opted-in mailboxes``: every active person's mailbox answers (they must be in the group).
- ``opted-out mailboxes``: an opted-out person's mailbox that still answers is a warning:
  they should be removed from the group.

Read only: one read of each mailbox's time zone (``mailboxSettings/timeZone``, never an
event), all through the gateway's ``$batch``. Details carry counts, never the people's
addresses (only the one the operator named).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from micromoments.domain.people import PersonStatus
from micromoments.ops.check_results import Check, describe_error, fail, ok, skip, warn
from micromoments.ports import Store

if TYPE_CHECKING:
    from micromoments.adapters.graph_calendar.transport import Answer

ACCESS_POLICY = "access policy"
OPTED_IN = "opted-in mailboxes"
OPTED_OUT = "opted-out mailboxes"
NAMES = (ACCESS_POLICY, OPTED_IN, OPTED_OUT)
_NO_MAILBOX = frozenset({"ErrorInvalidUser", "MailboxNotEnabledForRESTAPI"})
_STEP = "docs/deploy.md, Microsoft 365 step 3"


@runtime_checkable
class MailboxAccess(Protocol):
    """What the checks need of the Graph gateway: one read of each mailbox, answered."""

    def mailbox_access(self, emails: Sequence[str]) -> list[Answer]: ...


def _refused(answer: Answer) -> bool:
    return answer.status == 403 and answer.code == "ErrorAccessDenied"


def _missing(answer: Answer) -> bool:
    return answer.status == 404 and answer.code in _NO_MAILBOX


def _message(answer: Answer) -> str:
    error = answer.body.get("error") if isinstance(answer.body, dict) else None
    return str(error.get("message") or "") if isinstance(error, dict) else ""


@dataclass(frozen=True, slots=True)
class Tally:
    """How a group of mailboxes answered: counts only."""

    asked: int
    readable: int
    refused: int
    missing: int

    @classmethod
    def of(cls, answers: Sequence[Answer]) -> Tally:
        return cls(
            len(answers),
            sum(a.ok for a in answers),
            sum(_refused(a) for a in answers),
            sum(_missing(a) for a in answers),
        )

    @property
    def other(self) -> int:
        return self.asked - self.readable - self.refused - self.missing


def check_graph(store: Store, gateway: Callable[[], object], outside: str | None) -> list[Check]:
    """The three checks, from one ``$batch``ed read of the outside mailbox, every active
    person's and every opted-out person's."""
    people = list(store.list_people())
    active = [p.email for p in people if p.status is PersonStatus.ACTIVE]
    opted_out = [p.email for p in people if p.status is PersonStatus.OPTED_OUT]
    named = next((p for p in people if outside and p.email.lower() == outside.lower()), None)
    wrong: Check | None = None
    if named is not None and named.status in (PersonStatus.ACTIVE, PersonStatus.LEAVING):
        why = f"{outside} is {named.status.value} here: name someone outside the group"
        wrong, outside = fail(ACCESS_POLICY, why), None
    asked = ([outside] if outside else []) + active + opted_out
    if not asked:
        why = "nobody to read: no --outside ADDRESS and nobody opted in or out yet"
        return [wrong or skip(ACCESS_POLICY, why), skip(OPTED_IN, why), skip(OPTED_OUT, why)]
    try:
        probe = gateway()
        if not isinstance(probe, MailboxAccess):
            raise TypeError("the org's calendar gateway is not Microsoft Graph's")
        answers = probe.mailbox_access(asked)
    except Exception as exc:
        why = f"cannot read through Graph: {describe_error(exc)}"
        return [wrong or fail(ACCESS_POLICY, why), fail(OPTED_IN, why), fail(OPTED_OUT, why)]
    first = 1 if outside else 0
    opted_in = Tally.of(answers[first : first + len(active)])
    return [
        wrong or policy_check(outside, answers[0] if outside else None, opted_in),
        opted_in_check(opted_in),
        opted_out_check(Tally.of(answers[first + len(active) :])),
    ]


def policy_check(outside: str | None, answer: Answer | None, opted_in: Tally) -> Check:
    if outside is None or answer is None:
        return warn(
            ACCESS_POLICY,
            "not tried: name a mailbox outside the opted-in group with `micromoments doctor "
            f"--outside ADDRESS` (someone who has not opted in) to check that Graph refuses it "
            f"({_STEP})",
        )
    if _refused(answer):
        if opted_in.asked and opted_in.refused == opted_in.asked:
            return fail(
                ACCESS_POLICY,
                f"{outside} is refused, but so is every opted-in person: the app lacks its "
                "permissions or admin consent (docs/deploy.md, Microsoft 365 step 2), which "
                "says nothing of the policy",
            )
        said = _message(answer)
        how = "by the application access policy" if "AccessPolicy" in said else f"({said})"
        return ok(ACCESS_POLICY, f"{outside} is refused, 403 ErrorAccessDenied {how}")
    if answer.ok:
        return fail(
            ACCESS_POLICY,
            f"{outside} is readable (200): no access policy limits the app, which can read "
            "and write the calendar of every mailbox in the tenant. Create the group and the "
            f"application access policy ({_STEP}); a change can take a while to apply",
        )
    if _missing(answer):
        return fail(
            ACCESS_POLICY,
            f"{outside} has no mailbox ({answer.describe()}): name an existing mailbox "
            "outside the group",
        )
    return fail(ACCESS_POLICY, f"cannot tell: {outside} answered {answer.describe()}")


def opted_in_check(tally: Tally) -> Check:
    if not tally.asked:
        return skip(OPTED_IN, "nobody is opted in yet")
    counts = f"{tally.readable} of {tally.asked} opted-in people's mailboxes answer"
    if tally.readable == tally.asked:
        return ok(OPTED_IN, counts)
    problems = []
    if tally.refused:
        problems.append(
            f"{tally.refused} refused (403 ErrorAccessDenied: add them to the group, {_STEP})"
        )
    if tally.missing:
        problems.append(f"{tally.missing} without an Exchange mailbox (404)")
    if tally.other:
        problems.append(f"{tally.other} failed otherwise (see the ScanFunction logs)")
    return fail(OPTED_IN, f"{counts}; {'; '.join(problems)}")


def opted_out_check(tally: Tally) -> Check:
    if not tally.asked:
        return skip(OPTED_OUT, "nobody has opted out")
    if tally.readable:
        return warn(
            OPTED_OUT,
            f"{tally.readable} of {tally.asked} opted-out people's mailboxes are still "
            "readable by the app: remove them from the group (Remove-DistributionGroupMember; "
            "`micromoments people list` shows who opted out)",
        )
    return ok(OPTED_OUT, f"none of {tally.asked} opted-out people's mailboxes is readable")
