"""Scripted callers with known answers for flows/contact_details.yaml, who answer what
each prompt asks (no fixed script): the objective's answer to an ``ask``, the spelled
(or digit-by-digit) form to a re-prompt that asks for it, ``yes`` to a read-back of the
right value and ``no, it's …`` to a wrong one.

:func:`callers` makes them from a seeded generator, so every run has the same callers:
names, addresses, numbers and dates, some with fillers ("um, sure, it's …"), some who
spell their address, some who correct themselves in the same breath, and some who give
an old address first and put it right at the read-back.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

FIRST = ("john", "mary", "james", "linda", "david", "sarah", "michael", "emma", "robert",
         "laura", "peter", "anna", "paul", "kate", "mark", "lucy", "tom", "alice", "daniel",
         "grace")
LAST = ("smith", "brown", "jones", "miller", "davis", "wilson", "taylor", "clark", "lewis",
        "walker", "hall", "young", "king", "green", "baker", "adams", "hill", "scott",
        "moore", "white")
DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "example.com")
AREAS = ("212", "415", "312", "617", "646", "702", "206", "303", "512", "305")
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
            "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth",
            "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
            "twentieth", "twenty first", "twenty second", "twenty third", "twenty fourth",
            "twenty fifth", "twenty sixth", "twenty seventh", "twenty eighth")
FILLERS = ("", "", "um, ", "sure, ", "uh, yeah, ", "okay so ")
EMAIL_LEADS = ("", "my email is ", "it's ", "my email address is ")
PHONE_LEADS = ("", "it's ", "you can reach me at ", "my number is ")
DATE_LEADS = ("", "let's say ", "how about ", "")
YES = ("yes", "yes, that's right", "yeah, that's correct", "yes please")
SLOTS = ("email", "phone", "callback_date")
SPELL = ("spell", "letter by letter", "digit by digit")


@dataclass(frozen=True)
class Caller:
    """One caller: the values they mean (``expected``) and how they say them."""

    number: int
    email: str
    phone: str
    """E.164, as capture_phone writes it."""
    date: dt.date
    filler: str
    spells_email: bool
    self_corrects: str
    """"" or the slot the caller corrects in the same breath."""
    old_email: str
    """An address said first and put right at the read-back ("" for most callers)."""

    @property
    def expected(self) -> dict[str, str]:
        return {"email": self.email, "phone": self.phone,
                "callback_date": self.date.isoformat()}

    def answer(self, objective: str, kind: str, text: str, readback: str,
               attempt: int) -> str:
        """What this caller says to a prompt (``readback``: the value read back to them)."""
        if kind == "confirm":
            right = self.expected.get(objective) == readback
            return YES[self.number % len(YES)] if right else \
                f"no, it's {self._value(objective, spelled=attempt > 2)}"
        spelled = kind == "reprompt" and any(word in text.lower() for word in SPELL)
        if kind == "ask":
            return self.filler + self._first(objective)
        return self._value(objective, spelled=spelled)

    def _first(self, objective: str) -> str:
        if objective == "email" and self.old_email:
            return EMAIL_LEADS[1] + say_email(self.old_email, spelled=False)
        lead = {"email": EMAIL_LEADS, "phone": PHONE_LEADS,
                "callback_date": DATE_LEADS}[objective][self.number % 4]
        said = self._value(objective, spelled=objective == "email" and self.spells_email)
        if self.self_corrects == objective:
            return f"{lead}{self._slip(objective)}, sorry, I mean {said}"
        return lead + said

    def _value(self, objective: str, *, spelled: bool) -> str:
        if objective == "email":
            return say_email(self.email, spelled=spelled)
        if objective == "phone":
            return say_phone(self.phone, grouped=not spelled)
        return say_date(self.date, self.number)

    def _slip(self, objective: str) -> str:
        """A wrong first try at a value, corrected in the same breath."""
        if objective == "email":
            local, domain = self.email.split("@")
            other = DOMAINS[(DOMAINS.index(domain) + 1) % len(DOMAINS)]
            return say_email(f"{local}@{other}", spelled=False)
        if objective == "phone":
            return say_phone(self.phone[:-4] + self.phone[-1] + self.phone[-4:-1], grouped=True)
        return say_date(self.date + dt.timedelta(days=2), self.number)


def say_email(address: str, *, spelled: bool) -> str:
    local, domain = address.split("@")
    words = []
    for part in local.replace("_", ".").split("."):
        words.append(" ".join(part) if spelled and part.isalpha() else _say_chars(part))
    joiner = " underscore " if "_" in local else " dot "
    return f"{joiner.join(words)} at {domain.replace('.', ' dot ')}"


def _say_chars(part: str) -> str:
    """Letters as a word, digits one by one ("mary7" → "mary seven")."""
    letters = "".join(c for c in part if c.isalpha())
    digits = [DIGITS[int(c)] for c in part if c.isdigit()]
    return " ".join([letters, *digits]) if letters else " ".join(digits)


def say_phone(e164: str, *, grouped: bool) -> str:
    national = e164.removeprefix("+1")
    groups = (national[:3], national[3:6], national[6:])
    said = [" ".join(DIGITS[int(c)] for c in group) for group in groups]
    return ", ".join(said) if grouped else " ".join(said)


def say_date(day: dt.date, number: int) -> str:
    month, nth = MONTHS[day.month - 1], ORDINALS[day.day - 1]
    return (f"the {nth} of {month}", f"{month} {nth}", f"{month} the {nth}")[number % 3]


def callers(count: int, seed: int = 12, year: int = 2027) -> list[Caller]:
    """``count`` callers from a seeded generator (dates Jan–Nov of ``year``: the next such
    day after a December run)."""
    rng = random.Random(seed)
    return [_caller(rng, n, year) for n in range(count)]


def _caller(rng: random.Random, n: int, year: int) -> Caller:
    first, last, domain = rng.choice(FIRST), rng.choice(LAST), rng.choice(DOMAINS)
    local = (f"{first}.{last}", f"{first}.{last}", f"{first}{rng.randrange(2, 10)}",
             f"{first}_{last}")[n % 4]
    phone = f"+1{rng.choice(AREAS)}{rng.randrange(200, 1000)}{rng.randrange(10_000):04d}"
    day = dt.date(year, rng.randrange(1, 12), rng.randrange(1, 29))
    old = f"{rng.choice(FIRST)}@{rng.choice(DOMAINS)}" if n % 7 == 3 else ""
    return Caller(number=n, email=f"{local}@{domain}", phone=phone, date=day,
                  filler=FILLERS[n % len(FILLERS)], spells_email=n % 5 == 2,
                  self_corrects=SLOTS[n // 4 % 3] if n % 4 == 1 else "", old_email=old)
