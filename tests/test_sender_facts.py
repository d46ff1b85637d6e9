"""What a signed mail says about its sender: their address and where they work, read
from the role under their name; nothing from a mail an organisation signs, nor from a
signature that is not the sender's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.reflection.engine import EpisodeView
from assistant.reflection.sender import sender_facts
from connectors.mail import signature

HANNAH = "Hannah Vogel <hannah.vogel@klarwerk.example>"


def mail(text: str, sender: str = HANNAH, signed: str | None = None) -> EpisodeView:
    return EpisodeView(
        id=7,
        time=datetime(2023, 10, 20, 8, 58, tzinfo=UTC),
        author="unknown",
        sender=sender,
        text=text,
        kind="email",
        meta={"signature": signed} if signed else {},
    )


def facts(episode: EpisodeView) -> set[tuple[str, str]]:
    found = sender_facts(episode)
    assert all(f.person == episode.sender and f.evidence == episode.id for f in found)
    return {(f.attribute, f.value) for f in found}


@pytest.mark.parametrize(
    ("episode", "expected"),
    [
        # A sign-off at the end of the text, no "-- " line: a role that is a title.
        (mail("Dear Marta,\n\nThe offer is attached.\n\nBest regards,\nHannah Vogel\n"
              "Senior Recruiter, Klarwerk GmbH"),
         {("employer", "Klarwerk GmbH"), ("job_title", "Senior Recruiter"),
          ("email", "hannah.vogel@klarwerk.example")}),
        # A department is no job title; the organisation is still the employer.
        (mail("Thanks!\n\nHannah Vogel\nPeople & Culture, Klarwerk GmbH"),
         {("employer", "Klarwerk GmbH"), ("email", "hannah.vogel@klarwerk.example")}),
        # The signature the connector cut after "-- ", with "at" between role and place.
        (mail("See you Monday.", signed="Hannah Vogel\nHead of Data at Maré Energy\n+49 30 1234"),
         {("employer", "Maré Energy"), ("job_title", "Head of Data"),
          ("email", "hannah.vogel@klarwerk.example")}),
        # An organisation signs with its own name: no person, no facts.
        (mail("Your booking is confirmed.\n\nAzores Airlines\nCustomer Service, Ponta Delgada",
              sender="Azores Airlines <noreply@azores.example>"), set()),
        # Someone else's signature (quoted or forwarded) is not the sender's.
        (mail("Forwarding this.\n\nPedro Nunes\nHead of Analytics, Farol Analytics"), set()),
        # Signed with the name only: nothing about work, so nothing at all.
        (mail("Thanks!\nHannah Vogel"), set()),
        # A shared address is nobody's own, whoever signs.
        (mail("Pedro Nunes\nHead of Analytics, Farol Analytics",
              sender="Pedro Nunes <office@farol.example>"), set()),
        # A bare address names no one.
        (mail("Hannah Vogel\nRecruiter, Klarwerk GmbH", sender="hannah@klarwerk.example"), set()),
    ],
)  # fmt: skip
def test_a_signed_mail_gives_its_senders_work(
    episode: EpisodeView, expected: set[tuple[str, str]]
) -> None:
    assert facts(episode) == expected


def test_the_mail_connector_keeps_the_cut_signature() -> None:
    body = "Hi Sofia,\n\nMy new number is below.\n\n-- \nMarta Sousa\nData Scientist, Maré\n"
    assert signature(body) == "Marta Sousa\nData Scientist, Maré"
    # A signature in the quoted part of a reply is not the sender's.
    reply = "Thanks!\n\nOn Mon, 4 Mar 2024 at 10:00, Ana <ana@example.org> wrote:\n> -- \n> Ana"
    assert signature(reply) is None
    # A long block after "-- " is a footer or a disclaimer, not a signature.
    assert signature("Hi\n-- \n" + "\n".join(f"line {i}" for i in range(10))) is None
