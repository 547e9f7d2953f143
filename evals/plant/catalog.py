"""The fictional plant: site, buildings, lines, equipment, products and master batch records.

Everything here is static data; the simulation modules draw from it with a seeded RNG.
"""

from __future__ import annotations

from dataclasses import dataclass

SITE_ID = "SITE-A"
SITE_NAME = "Northfield Pharma, Site A (fictional)"


@dataclass(frozen=True)
class Equipment:
    tag: str
    name: str
    line: str
    building: str
    area: str


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    strength: str
    dosage_form: str
    lines: tuple[str, ...]
    mbr_id: str
    mbr_version: int
    batch_size: str


@dataclass(frozen=True)
class MbrParameter:
    step_id: str
    instruction: str
    parameter: str
    unit: str
    low: float | None
    high: float | None
    nominal: float
    spread: float  # typical batch-to-batch standard deviation of the actual value
    equipment_role: str  # which equipment of the line performs the step ("" = room / line)
    decimals: int = 1


BUILDINGS = {
    "B1": "Oral solid dose building",
    "B2": "Sterile manufacturing building",
}

LINES = {
    "L1": ("B1", "Oral solid dose line 1"),
    "L2": ("B1", "Oral solid dose line 2"),
    "L3": ("B2", "Sterile fill line 3"),
}

_EQUIPMENT_ROWS = [
    ("BL-101", "Bin blender", "L1", "Blending"),
    ("GR-101", "High-shear granulator", "L1", "Granulation"),
    ("FBD-101", "Fluid-bed dryer", "L1", "Granulation"),
    ("TP-101", "Rotary tablet press", "L1", "Compression"),
    ("CT-101", "Perforated pan coater", "L1", "Coating"),
    ("BL-201", "Bin blender", "L2", "Blending"),
    ("GR-201", "High-shear granulator", "L2", "Granulation"),
    ("FBD-201", "Fluid-bed dryer", "L2", "Granulation"),
    ("FBD-202", "Fluid-bed dryer", "L2", "Granulation"),
    ("TP-201", "Rotary tablet press", "L2", "Compression"),
    ("TP-202", "Rotary tablet press", "L2", "Compression"),
    ("CT-201", "Perforated pan coater", "L2", "Coating"),
    ("LBL-101", "Labeller with vision system", "L2", "Packaging"),
    ("CMP-301", "Compounding vessel 500 L", "L3", "Compounding"),
    ("FIL-301", "Sterilising-grade filter housing", "L3", "Compounding"),
    ("TUN-301", "Depyrogenation tunnel", "L3", "Aseptic filling"),
    ("FL-301", "Vial filling and stoppering machine", "L3", "Aseptic filling"),
    ("RABS-301", "Restricted access barrier system", "L3", "Aseptic filling"),
    ("CAP-301", "Vial capping machine", "L3", "Aseptic filling"),
    ("WFI-01", "Water for injection generation and loop", "", "Utilities"),
    ("AHU-B1-02", "Air handling unit, granulation and compression suite", "", "Utilities"),
    ("AHU-B2-01", "Air handling unit, aseptic core", "", "Utilities"),
    ("HPLC-07", "HPLC system", "", "QC laboratory"),
    ("BAL-12", "Analytical balance", "", "QC laboratory"),
]


# Equipment without a line: the building it sits in.
_UNLINED_BUILDING = {
    "WFI-01": "B2",
    "AHU-B1-02": "B1",
    "AHU-B2-01": "B2",
    "HPLC-07": "B1",
    "BAL-12": "B1",
}

EQUIPMENT: dict[str, Equipment] = {
    tag: Equipment(tag, name, line, LINES[line][0] if line else _UNLINED_BUILDING[tag], area)
    for tag, name, line, area in _EQUIPMENT_ROWS
}

PRODUCTS: dict[str, Product] = {
    p.code: p
    for p in [
        Product(
            "PRD-0042",
            "Norvalex",
            "50 mg film-coated tablets",
            "tablet",
            ("L2", "L1"),
            "MBR-PRD-0042",
            7,
            "250 kg",
        ),
        Product(
            "PRD-0043",
            "Norvalex",
            "100 mg film-coated tablets",
            "tablet",
            ("L2",),
            "MBR-PRD-0043",
            5,
            "300 kg",
        ),
        Product(
            "PRD-0051",
            "Tramelid",
            "10 mg film-coated tablets",
            "tablet",
            ("L1",),
            "MBR-PRD-0051",
            4,
            "180 kg",
        ),
        Product(
            "PRD-0107",
            "Sterafen",
            "20 mg/mL solution for injection, 2 mL vial",
            "parenteral",
            ("L3",),
            "MBR-PRD-0107",
            3,
            "400 L",
        ),
    ]
}

# Equipment performing each role per line (the oral solid dose lines share one step list).
LINE_ROLES: dict[str, dict[str, str]] = {
    "L1": {
        "blender": "BL-101",
        "granulator": "GR-101",
        "dryer": "FBD-101",
        "press": "TP-101",
        "coater": "CT-101",
        "labeller": "LBL-101",
    },
    "L2": {
        "blender": "BL-201",
        "granulator": "GR-201",
        "dryer": "FBD-201",
        "press": "TP-201",
        "coater": "CT-201",
        "labeller": "LBL-101",
    },
    "L3": {
        "compounder": "CMP-301",
        "filter": "FIL-301",
        "tunnel": "TUN-301",
        "filler": "FL-301",
        "rabs": "RABS-301",
        "capper": "CAP-301",
    },
}
# L2 has a second dryer and press; a batch uses one of each (chosen per batch).
ALTERNATES = {"FBD-201": "FBD-202", "TP-201": "TP-202"}

OSD_STEPS: list[MbrParameter] = [
    MbrParameter(
        "1.1",
        "Line clearance of granulation suite",
        "Line clearance check",
        "-",
        None,
        None,
        1,
        0,
        "",
        0,
    ),
    MbrParameter(
        "2.1",
        "Dispense API and excipients",
        "API net weight",
        "kg",
        99.5,
        100.5,
        100.0,
        0.12,
        "",
        2,
    ),
    MbrParameter(
        "3.1", "Dry mix in granulator", "Impeller speed", "rpm", 140, 160, 150, 3, "granulator", 0
    ),
    MbrParameter(
        "3.1", "Dry mix in granulator", "Mixing time", "min", 4, 6, 5, 0.3, "granulator", 1
    ),
    MbrParameter(
        "4.1", "Add binder solution", "Spray rate", "g/min", 900, 1100, 1000, 35, "granulator", 0
    ),
    MbrParameter(
        "4.2",
        "Wet massing to end point",
        "Impeller power",
        "kW",
        8.0,
        12.0,
        10.2,
        0.5,
        "granulator",
        1,
    ),
    MbrParameter(
        "6.1",
        "Fluid-bed drying: heat-up",
        "Inlet air temperature",
        "C",
        55,
        65,
        60.0,
        1.2,
        "dryer",
        1,
    ),
    MbrParameter(
        "6.2",
        "Fluid-bed drying: filter",
        "Filter differential pressure",
        "mbar",
        5,
        25,
        14,
        2.0,
        "dryer",
        1,
    ),
    MbrParameter(
        "6.3",
        "Fluid-bed drying: end point",
        "Product temperature",
        "C",
        38,
        45,
        41.5,
        0.9,
        "dryer",
        1,
    ),
    MbrParameter(
        "6.3", "Fluid-bed drying: end point", "Loss on drying", "%", 1.5, 2.5, 2.0, 0.15, "dryer", 2
    ),
    MbrParameter(
        "7.1", "Final blend with lubricant", "Blend time", "min", 3, 5, 4, 0.2, "blender", 1
    ),
    MbrParameter("8.1", "Compression", "Room relative humidity", "%RH", 30, 55, 42, 3.0, "", 0),
    MbrParameter("8.2", "Compression", "Main compression force", "kN", 12, 18, 15, 0.8, "press", 1),
    MbrParameter(
        "8.3",
        "Compression: in-process control",
        "Tablet weight (mean of 20)",
        "mg",
        194,
        206,
        200,
        1.3,
        "press",
        1,
    ),
    MbrParameter(
        "8.3",
        "Compression: in-process control",
        "Tablet hardness",
        "N",
        80,
        120,
        100,
        5,
        "press",
        0,
    ),
    MbrParameter(
        "9.1", "Film coating", "Exhaust air temperature", "C", 40, 46, 43, 0.8, "coater", 1
    ),
    MbrParameter("9.2", "Film coating", "Spray rate", "g/min", 180, 240, 210, 7, "coater", 0),
    MbrParameter(
        "9.3", "Film coating: end point", "Weight gain", "%", 2.8, 3.5, 3.1, 0.1, "coater", 2
    ),
    MbrParameter("10.1", "Yield reconciliation", "Yield", "%", 97, 101, 98.8, 0.5, "", 1),
    MbrParameter(
        "11.1",
        "Packaging: label reconciliation",
        "Label reconciliation difference",
        "labels",
        None,
        0,
        0,
        0,
        "labeller",
        0,
    ),
]

STERILE_STEPS: list[MbrParameter] = [
    MbrParameter(
        "1.1",
        "Line clearance of aseptic filling room",
        "Line clearance check",
        "-",
        None,
        None,
        1,
        0,
        "",
        0,
    ),
    MbrParameter(
        "2.1",
        "Compound bulk solution",
        "WFI conductivity at point of use",
        "uS/cm",
        None,
        1.3,
        0.6,
        0.08,
        "compounder",
        2,
    ),
    MbrParameter(
        "2.2", "Compound bulk solution", "Mixing time", "min", 25, 35, 30, 1, "compounder", 0
    ),
    MbrParameter(
        "3.1",
        "Pre-filtration bioburden sample",
        "Bioburden",
        "CFU/100 mL",
        None,
        10,
        1,
        0.8,
        "compounder",
        0,
    ),
    MbrParameter(
        "4.1",
        "Sterile filtration",
        "Filter integrity, bubble point (post-use)",
        "bar",
        3.2,
        None,
        3.6,
        0.08,
        "filter",
        2,
    ),
    MbrParameter(
        "5.1",
        "Depyrogenation of vials",
        "Tunnel hot-zone temperature",
        "C",
        300,
        340,
        320,
        3,
        "tunnel",
        0,
    ),
    MbrParameter(
        "6.1", "Aseptic filling", "Fill volume", "mL", 2.05, 2.15, 2.10, 0.01, "filler", 3
    ),
    MbrParameter(
        "6.2",
        "Aseptic filling: monitoring",
        "Grade A particles >=0.5 um",
        "count/m3",
        None,
        3520,
        600,
        200,
        "rabs",
        0,
    ),
    MbrParameter(
        "6.3",
        "Aseptic filling: monitoring",
        "Glove print, settle plate",
        "CFU",
        None,
        0,
        0,
        0,
        "rabs",
        0,
    ),
    MbrParameter("7.1", "Capping", "Residual seal force", "N", 60, 110, 85, 4, "capper", 0),
    MbrParameter("8.1", "Yield reconciliation", "Yield", "%", 96, 101, 98.5, 0.6, "", 1),
]


def steps_for(product_code: str) -> list[MbrParameter]:
    return STERILE_STEPS if PRODUCTS[product_code].dosage_form == "parenteral" else OSD_STEPS


def mbr_parameter(product_code: str, step_id: str, parameter: str) -> MbrParameter:
    for step in steps_for(product_code):
        if step.step_id == step_id and step.parameter == parameter:
            return step
    raise KeyError(f"{product_code}: no MBR parameter {parameter!r} at step {step_id}")


def format_limits(low: float | None, high: float | None, unit: str) -> str:
    if low is None and high is None:
        return "Pass"
    if low is None:
        return f"<= {high:g}"
    if high is None:
        return f">= {low:g}"
    return f"{low:g} - {high:g}"
