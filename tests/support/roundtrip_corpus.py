"""The round-trip corpus: English utterances as a caller SAYS them (text a TTS engine
speaks), each with the value its capture primitive must produce after a real recognizer
wrote them down. ``None``: the primitive must find nothing (an unsure answer).

Dates are resolved against :data:`REFERENCE_DATE` (a Sunday), so results never drift.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

REFERENCE_DATE = dt.date(2026, 3, 1)
PRIMITIVES = ("email", "phone", "date", "confirmation")


@dataclass(frozen=True)
class Utterance:
    id: str
    primitive: str
    said: str
    expected: str | None


_EMAILS = (
    ("my email is john dot smith at gmail dot com", "john.smith@gmail.com"),
    ("it's sarah underscore lee at yahoo dot com", "sarah_lee@yahoo.com"),
    ("mike dash jones at outlook dot com", "mike-jones@outlook.com"),
    ("you can reach me at emily at hotmail dot com", "emily@hotmail.com"),
    ("J, O, H, N, at gmail dot com", "john@gmail.com"),
    ("my email is K, A, T, E, at yahoo dot com", "kate@yahoo.com"),
    ("alex one two three at aol dot com", "alex123@aol.com"),
    ("it's bob plus news at gmail dot com", "bob+news@gmail.com"),
    ("david dot brown at company dot co dot uk", "david.brown@company.co.uk"),
    ("um, my email is lisa at gmail dot com", "lisa@gmail.com"),
    ("john at gmail dot com. No wait, john at yahoo dot com", "john@yahoo.com"),
    ("it's info at bakery dash shop dot com", "info@bakery-shop.com"),
    ("tom dot wilson at icloud dot com", "tom.wilson@icloud.com"),
    ("my address is anna dot k at web dot de", "anna.k@web.de"),
    ("peter underscore pan at outlook dot com", "peter_pan@outlook.com"),
    ("sales at acme dot io", "sales@acme.io"),
    ("it's mary seventy seven at gmail dot com", "mary77@gmail.com"),
    ("the email is support at example dot org", "support@example.org"),
    ("uh, it's chris at chris dash web dot dev", "chris@chris-web.dev"),
    ("it's D, A, N, at gmail dot com", "dan@gmail.com"),
    ("laura at yahoo dot com. Sorry, laura at gmail dot com", "laura@gmail.com"),
    ("my email is robert dot king at company dot net", "robert.king@company.net"),
    ("S, M, I, T, H, at hotmail dot com", "smith@hotmail.com"),
    ("my email is nina at gmail dot com", "nina@gmail.com"),
    ("it's jane dot doe at protonmail dot com", "jane.doe@protonmail.com"),
)
_PHONES = (
    ("my number is two one two, five five five, zero one nine nine", "+12125550199"),
    ("it's four one five, five five five, zero one two three", "+14155550123"),
    ("call me at six five zero, double five, five, one two three four", "+16505551234"),
    ("my phone number is eight hundred, five five five, one two one two", "+18005551212"),
    ("plus four four, two zero, seven nine four six, zero nine five eight", "+442079460958"),
    ("plus one, three one two, five five five, zero one four two", "+13125550142"),
    ("um, it's seven one eight, five five five, oh one nine nine", "+17185550199"),
    ("two oh two, five five five, one eight eight eight", "+12025551888"),
    ("my cell is nine one seven, five five five, two three four five", "+19175552345"),
    ("three one zero, five five five, seven seven seven two", "+13105557772"),
    ("six one seven, five five five, zero one two three. No wait, zero one two four",
     "+16175550124"),
    ("five one two, five five five, double four, double four", "+15125554444"),
    ("area code three zero five, then five five five, one nine nine nine", "+13055551999"),
    ("plus three three, six, one two, three four, five six, seven eight", "+33612345678"),
    ("plus four nine, three zero, one two three four, five six seven eight", "+493012345678"),
    ("my number is four zero four, five five five, zero one seven five", "+14045550175"),
    ("it's two one two, five five five, zero one nine nine, extension four five",
     "+12125550199"),
    ("you can call me on eight one eight, five five five, double zero, four two",
     "+18185550042"),
    ("uh, two zero six, five five five, zero one zero zero", "+12065550100"),
    ("my work number is six four six, five five five, three two one zero", "+16465553210"),
    ("four one five five five five zero one two three", "+14155550123"),
    ("plus one, four one five, five five five, two six seven one", "+14155552671"),
    ("eight five eight, five five five, nine eight seven six", "+18585559876"),
    ("it's seven seven three, two oh two, five five five five", "+17732025555"),
)
_DATES = (
    ("March third", "2026-03-03"),
    ("the fifteenth of April", "2026-04-15"),
    ("tomorrow", "2026-03-02"),
    ("next Friday", "2026-03-06"),
    ("June twenty first, twenty twenty six", "2026-06-21"),
    ("in two weeks", "2026-03-15"),
    ("December twenty fifth", "2026-12-25"),
    ("the day after tomorrow", "2026-03-03"),
    ("um, let's say May fifth", "2026-05-05"),
    ("March tenth. No wait, March twelfth", "2026-03-12"),
    ("on Tuesday", "2026-03-03"),
    ("July fourth, twenty twenty seven", "2027-07-04"),
    ("the twentieth", "2026-03-20"),
    ("January first, two thousand twenty seven", "2027-01-01"),
    ("August ninth", "2026-08-09"),
    ("in three days", "2026-03-04"),
    ("this Thursday", "2026-03-05"),
    ("the second of October", "2026-10-02"),
    ("September thirtieth, twenty twenty six", "2026-09-30"),
    ("uh, how about Wednesday the eleventh", "2026-03-11"),
    ("February fourteenth, twenty twenty seven", "2027-02-14"),
    ("November third", "2026-11-03"),
)
_CONFIRMATIONS = (
    ("yes", "yes"),
    ("no", "no"),
    ("yes, that's right", "yes"),
    ("no, that's wrong", "no"),
    ("uh, yeah", "yes"),
    ("um, no", "no"),
    ("yes please", "yes"),
    ("no thank you", "no"),
    ("no wait, yes", "yes"),
    ("yes. Actually, no", "no"),
    ("that's correct", "yes"),
    ("that's not right", "no"),
    ("sure", "yes"),
    ("nope", "no"),
    ("absolutely", "yes"),
    ("definitely not", "no"),
    ("um, I think so", "yes"),
    ("uh, I don't know", None),
    ("yeah, that's it", "yes"),
    ("no, no, that's not it", "no"),
    ("of course", "yes"),
    ("okay", "yes"),
)


def _utterances(primitive: str, pairs: tuple[tuple[str, str | None], ...]) -> list[Utterance]:
    return [Utterance(f"{primitive}-{i:02d}", primitive, said, expected)
            for i, (said, expected) in enumerate(pairs, start=1)]


CORPUS: tuple[Utterance, ...] = (
    *_utterances("email", _EMAILS), *_utterances("phone", _PHONES),
    *_utterances("date", _DATES), *_utterances("confirmation", _CONFIRMATIONS),
)


def sample(every: int = 1, primitive: str | None = None) -> list[Utterance]:
    """Every ``every``-th utterance of each primitive (or of ``primitive`` only), so a
    slice keeps every kind of utterance."""
    kinds = [primitive] if primitive else list(PRIMITIVES)
    return [u for kind in kinds for u in [u for u in CORPUS if u.primitive == kind][::every]]
