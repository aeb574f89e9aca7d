"""The extract's shape: CSDS v1.6-style tables, their columns, national codes, and the local mapping file.

fundsim reads five tables (docs/calibrate.md lists them with their sources):

* ``referrals`` — one row per referral (CSDS group CYP101 Referral, with CYP102 Service type
  referred to and the team of CYP101/CYP102);
* ``contacts`` — one row per care contact (CSDS CYP201 Care Contact);
* ``workforce`` — whole-time equivalents in post by team and Agenda for Change band (an ESR summary);
* ``population`` — resident population by locality;
* ``admissions`` — optional: emergency admissions linked by person (a SUS / HES admitted patient care
  extract).

Canonical column names are CSDS v1.6 data-element short names where CSDS has one
(``ReferralRequestReceivedDate``, ``ClinContDurOfCareCont`` …) and descriptive names otherwise.
A provider whose columns are named differently maps them in a small YAML file (:class:`Mapping`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fundsim.errors import Problem, ScenarioError

ColumnKind = Literal["id", "date", "time", "code", "text", "minutes", "number"]


@dataclass(frozen=True)
class Column:
    """One canonical column: its kind (how it is parsed and checked) and whether it must be present."""

    name: str
    kind: ColumnKind
    required: bool = True
    codes: str | None = None  # name of the national code list in CODE_LISTS for kind "code"
    personal: bool = False  # a person identifier or a date of an individual event (never written out)


@dataclass(frozen=True)
class Table:
    """One table of the extract."""

    name: str
    columns: tuple[Column, ...]
    required: bool = True
    key: tuple[str, ...] = field(default_factory=tuple)  # columns that must be unique together

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        return next(c for c in self.columns if c.name == name)


# --------------------------------------------------------------------------- national codes
# From the NHS Data Dictionary as used by CSDS v1.6 (docs/calibrate.md; check codes against the
# current dictionary: a provider's own or newer codes are added through the mapping file's ``codes``).

#: SOURCE OF REFERRAL (community), grouped into the scenario's referral sources.
SOURCE_OF_REFERRAL: dict[str, str] = {
    "A1": "gp",  # Primary health care: general medical practitioner practice
    "A2": "other",  # Primary health care: health visitor
    "A3": "other",  # Other primary health care
    "A4": "other",  # Primary health care: maternity service
    "B1": "other",  # Self referral: self
    "B2": "other",  # Self referral: carer/relative
    "C1": "other",  # Local authority and other public services: social services
    "D1": "other",  # Employer
    "E1": "other",  # Justice system
    "F1": "other",  # Child health
    "G1": "other",  # Independent sector
    "H1": "hospital_discharge",  # Acute secondary care: emergency care department
    "H2": "hospital_discharge",  # Acute secondary care: other clinical specialty (inpatient discharge)
    "H3": "hospital_discharge",  # Acute secondary care: ward or discharge team
    "I1": "other",  # Other: temporary transfer from another provider
    "I2": "other",  # Other: permanent transfer from another provider
    "M9": "other",  # Other (not listed)
    "N3": "other",  # Improving access to psychological therapies service
    "P1": "other",  # Internal referral
    "Q1": "other",  # Temporary transfer
}

#: PRIORITY TYPE CODE: 1 routine, 2 urgent, 3 two week wait (treated as urgent).
PRIORITY_TYPE: dict[str, str] = {"1": "routine", "2": "urgent", "3": "urgent"}

#: CONSULTATION MECHANISM (community care): only face-to-face contacts are home visits in the model.
CONSULTATION_MECHANISM: dict[str, str] = {
    "01": "face_to_face",
    "02": "telephone",
    "04": "other",  # talk type for a person unable to speak
    "05": "other",  # email
    "09": "other",  # text message
    "10": "other",  # instant messaging
    "11": "video",  # video consultation
    "12": "other",  # message board
    "13": "other",  # chat room
    "98": "other",  # other (not listed)
}

#: ATTENDED OR DID NOT ATTEND: only 5 and 6 (seen) are delivered contacts.
ATTENDANCE: dict[str, str] = {
    "5": "attended",  # attended on time or, if late, before the relevant care professional was ready
    "6": "attended",  # arrived late but was seen
    "7": "not_seen",  # arrived late and could not be seen
    "2": "cancelled",  # appointment cancelled by, or on behalf of, the patient
    "3": "not_seen",  # did not attend, no advance warning
    "4": "cancelled",  # appointment cancelled or postponed by the health care provider
    "0": "other",  # not applicable: appointment occurs in the future
}

#: ACTIVITY LOCATION TYPE CODE (the first letter groups them; A01 is the patient's own home).
ACTIVITY_LOCATION: dict[str, str] = {
    "A01": "home",  # the patient's own home
    "A02": "home",  # carer's home
    "A03": "home",  # another person's home
    "A04": "other",  # sheltered housing
    "B01": "clinic",  # health centre / clinic
    "B02": "clinic",
    "E01": "care_home",  # care home with nursing
    "E02": "care_home",  # care home without nursing
    "E03": "care_home",
    "X01": "other",  # not elsewhere classified
}

#: REFERRAL CLOSURE REASON, grouped into what the model distinguishes.
REFERRAL_CLOSURE: dict[str, str] = {
    "01": "transferred",  # transferred to other health care provider
    "02": "completed",  # treatment completed / care plan goals met
    "03": "other",  # no further treatment appropriate
    "04": "other",  # patient non-engagement
    "05": "other",  # patient choice
    "06": "died",  # patient died
    "07": "admitted",  # admitted to hospital
    "08": "other",  # referral declined / not appropriate
    "98": "other",  # other (not listed)
}

#: ADMISSION METHOD (hospital provider spell): 21–28 and 2A–2D are emergency admissions.
ADMISSION_METHOD: dict[str, str] = {
    **{c: "emergency" for c in ("21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D")},
    **{c: "elective" for c in ("11", "12", "13")},
    **{c: "other" for c in ("31", "32", "81", "82", "83")},
}

CODE_LISTS: dict[str, dict[str, str]] = {
    "SourceOfReferralCommunity": SOURCE_OF_REFERRAL,
    "PriorityTypeCode": PRIORITY_TYPE,
    "ConsMechanism": CONSULTATION_MECHANISM,
    "AttendOrDNACode": ATTENDANCE,
    "ActLocTypeCode": ACTIVITY_LOCATION,
    "ReferClosReason": REFERRAL_CLOSURE,
    "AdmissionMethod": ADMISSION_METHOD,
}

# --------------------------------------------------------------------------- tables

REFERRALS = Table(
    "referrals",
    (
        Column("Person_ID", "id", personal=True),
        Column("ServiceRequestId", "id", personal=True),
        Column("ReferralRequestReceivedDate", "date", personal=True),
        Column("SourceOfReferralCommunity", "code", codes="SourceOfReferralCommunity"),
        Column("PriorityTypeCode", "code", codes="PriorityTypeCode"),
        Column("ServTypeReferredTo", "text", required=False),
        Column("TeamIDLocal", "text"),
        Column("ServDischDate", "date", required=False, personal=True),
        Column("ReferClosReason", "code", required=False, codes="ReferClosReason"),
    ),
    key=("ServiceRequestId",),
)

CONTACTS = Table(
    "contacts",
    (
        Column("Person_ID", "id", personal=True),
        Column("ServiceRequestId", "id", personal=True),
        Column("CareContactId", "id", personal=True),
        Column("CareContDate", "date", personal=True),
        Column("CareContTime", "time", required=False, personal=True),
        Column("ClinContDurOfCareCont", "minutes"),
        Column("ConsMechanism", "code", codes="ConsMechanism"),
        Column("AttendOrDNACode", "code", codes="AttendOrDNACode"),
        Column("ActLocTypeCode", "code", required=False, codes="ActLocTypeCode"),
        Column("StaffBand", "text", required=False),
    ),
    key=("CareContactId",),
)

WORKFORCE = Table(
    "workforce",
    (Column("TeamIDLocal", "text"), Column("AfCBand", "text"), Column("WTE", "number")),
    key=("TeamIDLocal", "AfCBand"),
)

POPULATION = Table("population", (Column("Locality", "text"), Column("Population", "number")), key=("Locality",))

ADMISSIONS = Table(
    "admissions",
    (
        Column("Person_ID", "id", personal=True),
        Column("StartDateHospitalProviderSpell", "date", personal=True),
        Column("DischargeDateHospitalProviderSpell", "date", personal=True),
        Column("AdmissionMethod", "code", required=False, codes="AdmissionMethod"),
    ),
    required=False,
)

TABLES: dict[str, Table] = {t.name: t for t in (REFERRALS, CONTACTS, WORKFORCE, POPULATION, ADMISSIONS)}

#: Canonical columns that hold a person id or the date of one person's event: never written to any output.
PERSONAL_COLUMNS = frozenset(c.name for t in TABLES.values() for c in t.columns if c.personal)


# --------------------------------------------------------------------------- the mapping file


class TableMapping(BaseModel):
    """Where one table is and what its columns are called locally."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str | None = Field(None, description="File name in the extract folder (.csv or .parquet).")
    columns: dict[str, str] = Field(default_factory=dict, description="Canonical name: local column name.")
    date_format: str | None = Field(None, description="strftime format of dates, e.g. '%d/%m/%Y' [default: ISO].")


class Mapping(BaseModel):
    """The mapping file: local file names, column names and codes onto the canonical extract."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tables: dict[Literal["referrals", "contacts", "workforce", "population", "admissions"], TableMapping] = Field(
        default_factory=dict
    )
    codes: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per code list (e.g. PriorityTypeCode): local code -> national code."
    )
    teams: dict[str, str] = Field(
        default_factory=dict, description="Team (TeamIDLocal) -> locality; a team not listed is its own locality."
    )
    bands: dict[str, str] = Field(default_factory=dict, description="Local band or staff group -> scenario grade name.")

    def entry(self, table: str) -> TableMapping | None:
        """What the file says about ``table`` (any name; None when it says nothing)."""
        # ``tables`` is keyed by the Literal table names, so it cannot be looked up by a plain str.
        for name, entry in self.tables.items():
            if name == table:
                return entry
        return None

    def file_for(self, table: str) -> str | None:
        """The file name given for ``table``, or None to look for the default names."""
        entry = self.entry(table)
        return entry.file if entry else None

    def local_name(self, table: str, column: str) -> str:
        """The local column name of canonical ``column`` of ``table``."""
        entry = self.entry(table)
        return entry.columns.get(column, column) if entry else column


def load_mapping(path: Path | None) -> Mapping:
    """Read the YAML mapping file at ``path`` (None: every name is the canonical one)."""
    import yaml

    if path is None:
        return Mapping()
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError.single(
            name,
            f"not valid YAML ({getattr(exc, 'problem', 'syntax error')})",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError.single(name, "not UTF-8 text") from None
    if not isinstance(data, dict):
        raise ScenarioError.single(name, "the mapping file must be a YAML mapping (tables:, codes:, teams:, bands:)")
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(
            Problem(name, None, None, ".".join(str(p) for p in err["loc"]), err["msg"]) for err in exc.errors()
        ) from None
    unknown = [k for k in mapping.codes if k not in CODE_LISTS]
    if unknown:
        raise ScenarioError.single(name, f"unknown code list(s) {unknown}; known: {sorted(CODE_LISTS)}", field="codes")
    for table, entry in mapping.tables.items():
        known = [c.name for c in TABLES[table].columns]
        for canonical in entry.columns:
            if canonical not in known:
                hint = difflib.get_close_matches(canonical, known, n=1)
                extra = f" (did you mean {hint[0]}?)" if hint else ""
                raise ScenarioError.single(
                    name, f"{canonical!r} is not a column of {table}{extra}", field=f"tables.{table}.columns"
                )
    return mapping


def code_list(name: str, mapping: Mapping) -> dict[str, str]:
    """National code list ``name`` with the mapping's local codes added (local code -> group)."""
    base = dict(CODE_LISTS[name])
    for local, national in mapping.codes.get(name, {}).items():
        if national in CODE_LISTS[name]:
            base[str(local)] = CODE_LISTS[name][national]
    return base
