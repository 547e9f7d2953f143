"""Quality, laboratory, engineering and utilities SOPs of the demo plant."""

from __future__ import annotations

from evals.plant.sop_model import Section, SopSpec, history, mbr_row, row

QA_RESP = (
    ("Initiator", "Records the event in the QMS within one working day of discovery."),
    ("Area owner", "Provides process knowledge and implements corrections."),
    ("QA", "Reviews, classifies and approves records; verifies effectiveness."),
)

QUALITY_SOPS: tuple[SopSpec, ...] = (
    SopSpec(
        "SOP-QA-001",
        "Deviation management",
        "To define how unplanned deviations from approved procedures, specifications and batch "
        "records are recorded, classified, investigated and closed.",
        "All GMP areas of Site A: production buildings B1 and B2, utilities, warehouse and QC "
        "laboratory.",
        QA_RESP,
        (
            Section(
                "Recording",
                "Any person who observes a deviation informs the supervisor immediately and "
                "records it in the QMS within 1 working day, with the batch, equipment, MBR step "
                "and the observed values.",
            ),
            Section(
                "Immediate actions",
                "Containment is performed before investigation: hold affected batches, stop "
                "equipment if product quality may be affected, segregate material. Record who did "
                "what and when.",
            ),
            Section(
                "Classification",
                "QA classifies the deviation as minor, major or critical using the criteria below.",
                rows=(
                    row(
                        "Minor",
                        "-",
                        "-",
                        "-",
                        "No impact on product quality or GMP compliance expected",
                    ),
                    row(
                        "Major",
                        "-",
                        "-",
                        "-",
                        "Possible impact on quality; investigation and CAPA required",
                    ),
                    row(
                        "Critical",
                        "-",
                        "-",
                        "-",
                        "Probable impact on patient safety; QP and management informed within 24 h",
                    ),
                ),
            ),
            Section(
                "Investigation and root cause",
                "The investigator uses 5-why and Ishikawa (6M) analysis. Recurrence is checked "
                "against similar records of the last 24 months (same equipment, product or "
                "failure mode). Human error may only be concluded once system causes (procedure, "
                "equipment, training design) have been excluded.",
                subs=(
                    Section(
                        "Recurrence check",
                        "Search the QMS for deviations with the same failure mode and the same "
                        "equipment. Three or more within 12 months require a CAPA.",
                    ),
                    Section(
                        "Most probable root cause",
                        "Where the root cause cannot be confirmed, the most probable root cause "
                        "is stated and the CAPA covers it.",
                    ),
                ),
            ),
            Section(
                "Closure",
                "Deviations are closed within 30 calendar days of opening or an extension is "
                "approved by QA with justification.",
            ),
        ),
        ("Deviation record in QMS", "Investigation report", "Extension requests"),
        history(
            ("2019-02-01", "New procedure"),
            ("2021-06-01", "Added 6M analysis"),
            ("2023-01-16", "Recurrence check window extended to 24 months"),
            ("2025-05-05", "Human error justification required"),
        ),
    ),
    SopSpec(
        "SOP-QA-002",
        "Corrective and preventive actions (CAPA)",
        "To define how CAPAs are raised, implemented and checked for effectiveness.",
        "CAPAs arising from deviations, audits, complaints and trends at Site A.",
        (*QA_RESP, ("CAPA owner", "Implements the actions by the due date and provides evidence.")),
        (
            Section(
                "Raising a CAPA",
                "A CAPA is raised for major and critical deviations and for any recurrence trend "
                "(3 or more events with the same failure mode within 12 months).",
            ),
            Section(
                "Action plan",
                "Each action has an owner and a due date. Retraining alone is not an acceptable "
                "CAPA for a recurring event unless procedure and equipment causes were excluded.",
            ),
            Section(
                "Effectiveness check",
                "Effectiveness is checked 6 months after implementation against a measurable "
                "criterion.",
                rows=(
                    row(
                        "Recurrence after implementation",
                        "events",
                        "-",
                        "0",
                        "Same failure mode, same equipment, 6 months",
                    ),
                    row("Effectiveness check due", "months", "-", "6", "After last action closed"),
                ),
            ),
            Section(
                "Ineffective CAPA",
                "If the effectiveness check fails, the CAPA is recorded as not effective and a "
                "new CAPA with a revised root cause is raised.",
            ),
        ),
        ("CAPA record in QMS", "Effectiveness check evidence"),
        history(
            ("2019-02-01", "New procedure"),
            ("2022-03-14", "Effectiveness criteria made measurable"),
            ("2024-06-03", "Retraining-only CAPAs restricted"),
        ),
    ),
    SopSpec(
        "SOP-QA-003",
        "Change control",
        "To ensure changes to equipment, processes, documents and materials are assessed and "
        "approved before implementation.",
        "All GMP changes at Site A.",
        QA_RESP,
        (
            Section(
                "Change request",
                "The change owner describes the change, its reason and affected documents, "
                "equipment and products.",
            ),
            Section(
                "Impact assessment",
                "QA, production, engineering and regulatory affairs assess the impact on "
                "validation, registration and training.",
            ),
            Section(
                "Implementation and closure",
                "The change is implemented after approval; documents are revised and training "
                "completed before the effective date.",
            ),
        ),
        ("Change control record",),
        history(
            ("2018-09-03", "New procedure"),
            ("2022-10-10", "Regulatory impact assessment added"),
            ("2025-01-13", "Periodic review, no technical change"),
        ),
    ),
    SopSpec(
        "SOP-QA-005",
        "Batch record review and release",
        "To define the review of executed batch records before QP certification.",
        "Executed batch records of all products manufactured at Site A.",
        (*QA_RESP, ("Qualified Person", "Certifies batches after review of the batch records.")),
        (
            Section(
                "Completeness check",
                "Every step has actual values, units, performer and verifier initials and a "
                "timestamp. Corrections follow good documentation practice.",
            ),
            Section(
                "Excursions",
                "Every value outside its limits is linked to a deviation number in the comments "
                "section of the batch record.",
            ),
            Section("Release", "Batches with open major or critical deviations are not released."),
        ),
        ("Batch record review checklist",),
        history(
            ("2019-05-06", "New procedure"),
            ("2023-04-03", "Deviation link required for each excursion"),
        ),
    ),
    SopSpec(
        "SOP-QA-006",
        "Data integrity and audit trail review",
        "To ensure GMP data are attributable, legible, contemporaneous, original and accurate "
        "(ALCOA+).",
        "Computerised systems at Site A: MES, HMIs of process equipment, CDS in the QC laboratory.",
        QA_RESP,
        (
            Section(
                "User accounts",
                "Each user has an individual account. Generic or shared accounts are not "
                "permitted on GMP systems.",
            ),
            Section(
                "Audit trail review frequency",
                "Audit trails are reviewed as listed below.",
                rows=(
                    row("MES batch audit trail", "per batch", "-", "-", "Before batch release"),
                    row(
                        "Equipment HMI audit trail",
                        "per batch",
                        "-",
                        "-",
                        "Set-point changes and alarms",
                    ),
                    row("CDS audit trail", "per sequence", "-", "-", "Manual integrations"),
                ),
            ),
            Section(
                "Review of HMI audit trails",
                "Set-point changes and alarm acknowledgements are checked for attributable user, "
                "reason and time. Entries under a generic account are reported as a data "
                "integrity deviation.",
            ),
        ),
        ("Audit trail review record",),
        history(("2020-01-13", "New procedure"), ("2023-09-04", "HMI audit trail review added")),
    ),
    SopSpec(
        "SOP-QA-007",
        "Supplier qualification and incoming material control",
        "To qualify suppliers of starting materials and control incoming lots.",
        "API, excipients and primary packaging suppliers of Site A.",
        QA_RESP,
        (
            Section(
                "Supplier qualification",
                "Suppliers are qualified by questionnaire, audit and evaluation of three lots "
                "before approval.",
            ),
            Section(
                "Incoming testing",
                "Each lot is tested against the material specification. For API, particle size is "
                "tested as listed below.",
                rows=(
                    row("API particle size d90", "um", "-", "180", "Specification SPEC-API-0042"),
                    row("API particle size d50", "um", "20", "90", "Specification SPEC-API-0042"),
                ),
            ),
            Section(
                "Supplier performance",
                "Deviations attributed to supplier material are trended yearly per supplier.",
            ),
        ),
        ("Supplier file", "Certificate of analysis review"),
        history(
            ("2019-03-04", "New procedure"), ("2024-02-05", "Particle size testing of API added")
        ),
    ),
    SopSpec(
        "SOP-QC-001",
        "Out-of-specification (OOS) results handling",
        "To define the investigation of OOS results in the QC laboratory.",
        "All release and stability testing in the QC laboratory of Site A.",
        (
            ("Analyst", "Reports suspected OOS results to the supervisor immediately."),
            ("QC supervisor", "Leads the phase 1 laboratory investigation."),
            ("QA", "Approves invalidation of results."),
        ),
        (
            Section(
                "Phase 1 laboratory investigation",
                "Check calculations, integration, instrument, standards and sample preparation "
                "before any retest.",
            ),
            Section(
                "Chromatographic integration",
                "Automatic integration with the locked processing method is the default. Manual "
                "integration requires a documented reason and second-person review.",
                rows=(
                    row(
                        "Assay PRD-0042", "% label claim", "95.0", "105.0", "Release specification"
                    ),
                    row(
                        "Assay PRD-0107", "% label claim", "95.0", "105.0", "Release specification"
                    ),
                    row("System suitability RSD", "%", "-", "2.0", "Six replicate injections"),
                ),
            ),
            Section(
                "Phase 2 investigation",
                "If no laboratory error is found, a deviation is opened and a manufacturing "
                "investigation performed.",
            ),
        ),
        ("OOS investigation form", "CDS audit trail"),
        history(
            ("2018-11-05", "New procedure"),
            ("2022-07-04", "Phase 1 checklist added"),
            ("2025-02-03", "Manual integration review tightened"),
        ),
        equipment=("HPLC-07",),
    ),
    SopSpec(
        "SOP-ENG-001",
        "Calibration of measuring instruments",
        "To ensure GMP measuring instruments are calibrated and used only within their "
        "calibration period.",
        "Process and laboratory instruments of Site A listed in the calibration system.",
        (
            ("Metrology", "Plans and performs calibrations."),
            ("Users", "Check calibration status before use."),
            ("QA", "Assesses out-of-tolerance results."),
        ),
        (
            Section(
                "Calibration plan",
                "Each instrument has a calibration interval based on criticality.",
            ),
            Section(
                "Calibration intervals",
                "Default intervals:",
                rows=(
                    row("Analytical balance", "months", "-", "6", "BAL-12"),
                    row(
                        "Temperature probe, process", "months", "-", "12", "Dryer and tunnel probes"
                    ),
                    row("Press force load cell", "months", "-", "12", "TP-101, TP-201, TP-202"),
                    row("Conductivity sensor WFI", "months", "-", "6", "WFI-01"),
                ),
            ),
            Section(
                "Out of tolerance",
                "As-found out-of-tolerance results require a deviation and an impact assessment "
                "back to the last passing calibration.",
            ),
            Section(
                "Calibration status and overdue instruments",
                "Instruments past their due date are labelled 'Do not use' and must not be used. "
                "Use of an overdue instrument is a deviation.",
            ),
        ),
        ("Calibration certificates", "Calibration system records"),
        history(
            ("2018-04-02", "New procedure"),
            ("2022-01-10", "Intervals reviewed"),
            ("2025-06-02", "Overdue lock-out in MES"),
        ),
        equipment=("BAL-12", "TP-201", "FBD-101", "WFI-01"),
    ),
    SopSpec(
        "SOP-ENG-002",
        "Preventive maintenance of process equipment",
        "To define preventive maintenance of production equipment.",
        "Process equipment of buildings B1 and B2.",
        (
            ("Maintenance", "Performs preventive maintenance per plan."),
            ("Production", "Releases equipment for maintenance."),
            ("QA", "Approves maintenance affecting validated state."),
        ),
        (
            Section(
                "Maintenance plan",
                "Maintenance tasks and intervals are defined per equipment in the CMMS.",
            ),
            Section(
                "Intervals",
                "Key intervals:",
                rows=(
                    row("Filling pump piston seals FL-301", "months", "-", "6", "Replace"),
                    row(
                        "Tunnel heater element check TUN-301",
                        "months",
                        "-",
                        "12",
                        "Visual check only",
                    ),
                    row("FBD filter bags", "batches", "-", "100", "Replace"),
                    row("Steam control valves", "months", "-", "24", "Overhaul"),
                ),
            ),
            Section(
                "Return to service",
                "After maintenance, equipment is cleaned and released by production; "
                "requalification is assessed by QA.",
            ),
        ),
        ("CMMS work orders",),
        history(("2018-06-04", "New procedure"), ("2023-03-06", "Intervals moved to CMMS")),
        equipment=("FL-301", "TUN-301", "FBD-201", "FBD-202"),
    ),
    SopSpec(
        "SOP-ENG-003",
        "Tablet press tooling management",
        "To control inspection, storage and replacement of tablet press punches and dies.",
        "Tooling sets of TP-101, TP-201 and TP-202.",
        (
            ("Tooling technician", "Inspects and measures tooling."),
            ("Production", "Records tooling set used per batch."),
        ),
        (
            Section(
                "Tooling register",
                "Each tooling set has a register with compression cycles and inspections.",
            ),
            Section(
                "Inspection and wear limits",
                "Tooling is inspected every 3 months.",
                rows=(
                    row(
                        "Lower punch working length deviation",
                        "mm",
                        "-0.02",
                        "0.02",
                        "Against nominal",
                    ),
                    row("Punch tip wear", "mm", "-", "0.05", "Visual and gauge"),
                    row("Inspection interval", "months", "-", "3", "Calendar based"),
                ),
            ),
            Section("Replacement", "Punches outside wear limits are replaced as a complete set."),
        ),
        ("Tooling register",),
        history(("2019-01-07", "New procedure"), ("2024-04-01", "Wear limits tightened")),
        equipment=("TP-101", "TP-201", "TP-202"),
    ),
    SopSpec(
        "SOP-UTL-001",
        "Water for injection system operation and monitoring",
        "To define operation, sampling and monitoring limits of the WFI system.",
        "WFI generation, storage tank and distribution loop WFI-01.",
        (
            ("Utilities", "Operates and monitors the WFI system."),
            ("QC", "Samples and tests WFI."),
            ("QA", "Reviews trends."),
        ),
        (
            Section("Operation", "The loop is kept circulating at or above 80 C at all times."),
            Section("Sampling", "Points of use are sampled daily on a rotating plan."),
            Section(
                "Conductivity and TOC monitoring",
                "Online conductivity is monitored at the return and at points of use.",
                rows=(
                    mbr_row(
                        "WFI conductivity at point of use",
                        "Alarm at 1.1; action at 1.3",
                        sterile=True,
                    ),
                    row("TOC", "ppb", "-", "500", "Daily sample"),
                    row("Loop temperature", "C", "80", "-", "Continuous"),
                    row("Endotoxin", "EU/mL", "-", "0.25", "Weekly per point of use"),
                ),
            ),
            Section(
                "Storage tank vent filter",
                "The hydrophobic vent filter is integrity tested and replaced every 12 months.",
            ),
        ),
        ("WFI trend reports", "Sampling records"),
        history(
            ("2017-10-02", "New procedure"),
            ("2021-09-06", "Point-of-use alarm limits added"),
            ("2024-03-04", "Vent filter replacement defined"),
        ),
        equipment=("WFI-01",),
        products=("PRD-0107",),
    ),
    SopSpec(
        "SOP-UTL-002",
        "HVAC monitoring of production areas",
        "To define monitoring of temperature, humidity and pressure differentials of production "
        "rooms.",
        "Rooms served by AHU-B1-02 and AHU-B2-01.",
        (
            ("Engineering", "Maintains the HVAC and BMS."),
            ("Production", "Checks room conditions before and during processing."),
        ),
        (
            Section(
                "Temperature", "Room temperature limits are 18 - 25 C in all production rooms."
            ),
            Section(
                "Humidity limits",
                "Relative humidity limits for oral solid dose rooms:",
                rows=(
                    mbr_row("Room relative humidity", "Compression and coating rooms"),
                    row(
                        "Room relative humidity, granulation",
                        "%RH",
                        "30",
                        "60",
                        "Granulation rooms",
                    ),
                    row("Room temperature", "C", "18", "25", "All rooms"),
                ),
            ),
            Section(
                "Pressure differentials",
                "Pressure cascades are monitored continuously; an alarm delay of 5 minutes "
                "applies.",
            ),
        ),
        ("BMS trend reports",),
        history(
            ("2018-02-05", "New procedure"),
            ("2022-05-02", "RH limits per room type"),
            ("2025-04-07", "Dehumidifier on AHU-B1-02 added"),
        ),
        equipment=("AHU-B1-02", "AHU-B2-01"),
    ),
)
