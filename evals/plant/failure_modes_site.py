"""Failure modes of the sterile building (B2), packaging, utilities, laboratory and data integrity."""

from __future__ import annotations

from evals.plant.failure_mode_model import CapaPlan, FailureMode

SITE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="gowning_procedure_gap",
        category="personnel_procedure",
        root_cause_6m="method",
        root_cause="The aseptic gowning SOP did not require glove sanitisation and a glove "
        "integrity check after each RABS intervention, so glove-print contaminations were "
        "recorded as individual operator errors.",
        titles=(
            "Glove print above action limit, grade A",
            "Positive glove print after intervention",
            "EM glove print excursion RABS-301",
        ),
        terse=(
            "glove print {val} CFU after intervention on FL-301, RABS-301. operator retrained. "
            "batch {batch}",
            "pos. glove print ({val} CFU) grade A, operator error",
        ),
        prose=(
            "A glove print taken after a RABS intervention during filling of batch {batch} showed "
            "{val} CFU against an action limit of 0 CFU in grade A.",
        ),
        immediate=(
            "Operator removed from aseptic area pending retraining",
            "Batch on hold; media fill data reviewed; organism identified",
        ),
        rates={"RABS-301": 0.25},
        weights=(2, 6, 2),
        sop=("SOP-STE-001", "5.4"),
        product_kind="sterile",
        step_id="6.3",
        parameter="Glove print, settle plate",
        direction="high",
        excursion=(1.0, 4.0),
        masked_cause=(
            "Operator error: operator did not follow gowning procedure during intervention."
        ),
        masked_6m="man",
        capa_plans=(
            CapaPlan(
                "Retrain aseptic operators on gowning",
                "Operator did not follow the gowning SOP.",
                "Retrain all aseptic operators on SOP-STE-001; observed gowning qualification.",
                "Sterile production manager",
                effective=False,
                scope=("RABS-301",),
                trigger_count=4,
                lead_days=45,
            ),
            CapaPlan(
                "Revise aseptic gowning SOP: glove sanitisation after interventions",
                "SOP gap: no glove sanitisation or integrity check required after RABS "
                "interventions.",
                "Revise SOP-STE-001 (Rev 4): mandatory glove sanitisation and glove integrity "
                "check after each intervention; add to batch record.",
                "QA sterile operations lead",
                effective=True,
                scope=("RABS-301",),
                open_on="2024-09-16",
                lead_days=77,
            ),
        ),
    ),
    FailureMode(
        id="hepa_gasket_leak",
        category="environment",
        root_cause_6m="machine",
        root_cause="A HEPA filter gasket in the RABS ceiling is compressed unevenly and leaks, "
        "raising non-viable particle counts in grade A.",
        titles=(
            "Grade A particle count above limit",
            "Non-viable particles high RABS-301",
            "Particle excursion grade A",
        ),
        terse=(
            "0.5um count {val}/m3 > {lim} in RABS-301 during fill, batch {batch}",
            "particles hi grade A {val}. no intervention at time",
        ),
        prose=(
            "Non-viable particle counts at the filling needle position in RABS-301 reached {val} "
            "{unit} (limit {lim}) during filling of batch {batch} with no intervention in "
            "progress.",
        ),
        immediate=(
            "Filling stopped; vials filled during excursion rejected",
            "HEPA integrity test ordered",
        ),
        rates={"RABS-301": 0.06},
        weights=(1, 6, 3),
        sop=("SOP-STE-005", "5.3"),
        product_kind="sterile",
        step_id="6.2",
        parameter="Grade A particles >=0.5 um",
        direction="high",
        excursion=(200.0, 4000.0),
        capa_plans=(
            CapaPlan(
                "Replace RABS-301 ceiling HEPA gaskets and add leak test after maintenance",
                "Leaking HEPA gasket.",
                "Replace gaskets; add HEPA leak test after every ceiling intervention.",
                "Engineering manager",
                effective=True,
                scope=("RABS-301",),
                trigger_count=2,
            ),
        ),
    ),
    FailureMode(
        id="wfi_conductivity_high",
        category="utilities",
        root_cause_6m="machine",
        root_cause="The WFI storage tank vent filter is blocked, so the tank pulls in air through "
        "a seal during draw-down, CO2 dissolves and conductivity at the points of use rises.",
        titles=(
            "WFI conductivity above limit at point of use",
            "WFI cond. high",
            "WFI-01 conductivity alarm",
        ),
        terse=(
            "WFI cond {val} uS/cm at POU-07 > {lim}, compounding held. batch {batch}",
            "wfi conductivity hi {val}, flushed 10 min, back in spec",
        ),
        prose=(
            "Conductivity of water for injection at the compounding point of use reached {val} "
            "{unit}, above the limit of {lim} {unit}, before compounding of batch {batch}. The "
            "loop was flushed and conductivity returned within limits.",
        ),
        immediate=(
            "Compounding held; WFI sampled for TOC and endotoxin",
            "Point of use flushed; readings normal after flush",
        ),
        rates={"WFI-01": 0.18},
        sop=("SOP-UTL-001", "5.3"),
        product_kind="sterile",
        step_id="2.1",
        parameter="WFI conductivity at point of use",
        direction="high",
        excursion=(0.05, 0.6),
        capa_plans=(
            CapaPlan(
                "Recalibrate WFI conductivity sensors",
                "Sensor drift suspected.",
                "Recalibrate all WFI conductivity sensors; add monthly verification.",
                "Utilities supervisor",
                effective=False,
                scope=("WFI-01",),
                trigger_count=5,
            ),
        ),
        scenario_weight=3,
    ),
    FailureMode(
        id="fill_pump_seal_wear",
        category="equipment",
        root_cause_6m="machine",
        root_cause="Piston pump seals on the filling machine wear faster than the 6-month "
        "replacement interval, so the fill volume of single needles drops below the lower limit.",
        titles=(
            "Fill volume below limit",
            "Low fill volume needle 3",
            "Fill weight check fail FL-301",
        ),
        terse=(
            "fill vol {val} mL needle 3 FL-301 (min {lim}). pump adjusted. batch {batch}",
            "low fill FL-301 {val}mL, vials rejected",
        ),
        prose=(
            "During filling of batch {batch} the fill volume check on FL-301 found {val} {unit} "
            "on one needle, below the lower limit of {lim} {unit}. The pump was adjusted and "
            "vials since the last check were rejected.",
        ),
        immediate=(
            "Vials since last passing check rejected; pump re-adjusted",
            "Increased fill checks to every 10 minutes",
        ),
        rates={"FL-301": 0.2},
        sop=("SOP-STE-002", "5.3"),
        product_kind="sterile",
        step_id="6.1",
        parameter="Fill volume",
        direction="low",
        excursion=(0.003, 0.03),
        capa_plans=(
            CapaPlan(
                "Increase fill volume checks on FL-301",
                "Fill volume drift detected too late.",
                "Check fill volume every 15 minutes instead of 30.",
                "Sterile production manager",
                effective=False,
                scope=("FL-301",),
                trigger_count=5,
            ),
        ),
        scenario_weight=4,
    ),
    FailureMode(
        id="filter_integrity_wetting",
        category="process",
        root_cause_6m="method",
        root_cause="Post-use filter integrity tests fail falsely because the filter is not fully "
        "wetted: the SOP gave no minimum flush volume for the product-wetted filter.",
        titles=(
            "Post-use filter integrity test failed",
            "Bubble point below limit FIL-301",
            "Filter integrity fail",
        ),
        terse=(
            "post-use BP {val} bar < {lim}, FIL-301. retest after re-wetting passed. batch {batch}",
            "filter integrity fail {val}bar, rewet pass",
        ),
        prose=(
            "The post-use bubble point test of the sterilising filter for batch {batch} gave "
            "{val} {unit}, below the minimum of {lim} {unit}. After re-wetting, the repeated test "
            "passed.",
        ),
        immediate=(
            "Batch on hold; filter retested after re-wetting",
            "Filter retained for manufacturer investigation",
        ),
        rates={"FIL-301": 0.1},
        weights=(2, 6, 2),
        sop=("SOP-STE-003", "5.3"),
        product_kind="sterile",
        step_id="4.1",
        parameter="Filter integrity, bubble point (post-use)",
        direction="low",
        excursion=(0.05, 0.6),
        capa_plans=(
            CapaPlan(
                "Define flush volume for filter wetting in SOP-STE-003",
                "No minimum wetting flush volume in the SOP.",
                "Revise SOP-STE-003: minimum 10 L/10-inch WFI flush before post-use integrity "
                "test.",
                "QA sterile operations lead",
                effective=True,
                scope=("FIL-301",),
                trigger_count=3,
            ),
        ),
    ),
    FailureMode(
        id="tunnel_heater_failure",
        category="equipment",
        root_cause_6m="machine",
        root_cause="A heater element bank of the depyrogenation tunnel hot zone fails (aged "
        "elements, no resistance check in preventive maintenance), so the hot-zone temperature "
        "drops below 300 C.",
        titles=(
            "Depyrogenation tunnel hot-zone temperature low",
            "TUN-301 temp below limit",
            "Tunnel temp low",
        ),
        terse=(
            "TUN-301 hot zone {val} C < {lim}. belt stopped, vials rejected. batch {batch}",
            "tunnel temp low {val}C, heater alarm",
        ),
        prose=(
            "The hot-zone temperature of TUN-301 fell to {val} {unit}, below the minimum of {lim} "
            "{unit}, while depyrogenating vials for batch {batch}. Vials in the tunnel were "
            "rejected.",
        ),
        immediate=(
            "Belt stopped; vials in tunnel rejected",
            "Maintenance replaced failed heater element",
        ),
        rates={"TUN-301": 0.12},
        weights=(3, 5, 2),
        sop=("SOP-STE-004", "5.2"),
        product_kind="sterile",
        step_id="5.1",
        parameter="Tunnel hot-zone temperature",
        direction="low",
        excursion=(2.0, 25.0),
        scenario_weight=3,
    ),
    FailureMode(
        id="label_reconciliation_gap",
        category="personnel_procedure",
        root_cause_6m="method",
        root_cause="Label control SOP requires only one operator to verify the label roll identity "
        "at line clearance and has no independent second-person check, so wrong or mixed label "
        "rolls reach the labeller.",
        titles=(
            "Label reconciliation discrepancy",
            "Label count mismatch at packaging",
            "Wrong label roll at LBL-101",
        ),
        terse=(
            "label recon diff {val} labels, LBL-101, batch {batch}. operator error",
            "lbl reconciliation not ok ({val}), roll from prev. batch found",
        ),
        prose=(
            "Label reconciliation for batch {batch} on LBL-101 showed a difference of {val} "
            "labels. A partly used roll from the previous product was found at the labeller.",
        ),
        immediate=(
            "Packaged goods quarantined; 100% label check",
            "Line stopped; all rolls returned to label store",
        ),
        rates={"LBL-101": 0.16},
        weights=(3, 5, 2),
        sop=("SOP-PKG-001", "5.5"),
        product_kind="osd",
        step_id="11.1",
        parameter="Label reconciliation difference",
        direction="high",
        excursion=(1.0, 40.0),
        masked_cause="Human error: operator did not remove remaining labels at line clearance.",
        masked_6m="man",
        capa_plans=(
            CapaPlan(
                "Retrain packaging operators on label control",
                "Operator did not follow label control SOP.",
                "Retrain packaging operators on SOP-PKG-001 and line clearance.",
                "Packaging supervisor",
                effective=False,
                scope=("LBL-101",),
                trigger_count=3,
                lead_days=30,
            ),
            CapaPlan(
                "Disciplinary coaching and label control refresher",
                "Repeated operator error.",
                "Individual coaching; refresher quiz for packaging team.",
                "Packaging supervisor",
                effective=False,
                scope=("LBL-101",),
                trigger_count=4,
                lead_days=30,
            ),
        ),
        scenario_weight=3,
    ),
    FailureMode(
        id="calibration_overdue",
        category="documentation",
        root_cause_6m="measurement",
        root_cause="The calibration management system exports due dates weekly and does not block "
        "instruments past due, so instruments are used after their calibration expired.",
        titles=(
            "Instrument used past calibration due date",
            "Calibration overdue",
            "Cal expired {eq}",
        ),
        terse=(
            "{eq} used with cal overdue ({val} days). batch {batch}",
            "cal sticker expired on {eq}",
        ),
        prose=(
            "{eq} was used for batch {batch} {val} days after its calibration due date. The "
            "subsequent calibration found the instrument within tolerance.",
        ),
        immediate=(
            "Instrument calibrated; as-found within tolerance",
            "Impact assessment of results obtained since due date",
        ),
        rates={"BAL-12": 0.05, "TP-201": 0.03, "FBD-101": 0.03},
        sop=("SOP-ENG-001", "5.4"),
        product_kind="any",
        weights=(7, 3, 0),
        capa_plans=(
            CapaPlan(
                "Block overdue instruments in calibration system",
                "No automatic lock-out of overdue instruments.",
                "Configure daily due-date report and MES lock-out of overdue instruments.",
                "Metrology lead",
                effective=True,
                scope=("BAL-12", "TP-201", "FBD-101"),
                trigger_count=6,
                lead_days=120,
            ),
        ),
    ),
    FailureMode(
        id="hplc_manual_integration",
        category="laboratory_OOS",
        root_cause_6m="measurement",
        root_cause="Assay OOS results are caused by inconsistent manual integration of a shoulder "
        "peak; the chromatography processing method allows manual baseline changes without "
        "second-person review.",
        titles=(
            "Assay OOS, invalidated after integration review",
            "OOS assay HPLC-07",
            "Lab OOS assay",
        ),
        terse=(
            "assay {val}% OOS on HPLC-07, phase 1 lab inv. integration error. batch {batch}",
            "OOS assay batch {batch}, reintegrated -> in spec",
        ),
        prose=(
            "An out-of-specification assay result of {val}% was obtained for batch {batch} on "
            "HPLC-07. The phase 1 laboratory investigation found the main peak had been "
            "integrated manually with an incorrect baseline.",
        ),
        immediate=(
            "Phase 1 laboratory investigation opened per SOP-QC-001",
            "Batch on hold pending OOS investigation",
        ),
        rates={"HPLC-07": 0.1},
        weights=(3, 6, 1),
        sop=("SOP-QC-001", "5.2"),
        product_kind="any",
        capa_plans=(
            CapaPlan(
                "Lock processing method and require review of manual integration",
                "Manual integration without control.",
                "Lock processing method; manual integration only with reason and second-person "
                "review in CDS.",
                "QC manager",
                effective=True,
                scope=("HPLC-07",),
                trigger_count=5,
            ),
        ),
    ),
    FailureMode(
        id="hmi_shared_login",
        category="data_integrity",
        root_cause_6m="method",
        root_cause="The press HMI has a shared operator account, so audit trail entries cannot be "
        "attributed to individuals.",
        titles=(
            "Shared login on press HMI",
            "Audit trail entries not attributable",
            "DI: generic account in use {eq}",
        ),
        terse=(
            "generic login used on {eq} HMI, batch {batch}",
            "audit trail review: shared acct on {eq}",
        ),
        prose=(
            "Audit trail review for batch {batch} found set-point changes on {eq} made under the "
            "generic operator account.",
        ),
        immediate=(
            "Set-point changes reviewed and confirmed by supervisor",
            "Generic account disabled",
        ),
        rates={"TP-201": 0.04, "TP-202": 0.03},
        sop=("SOP-QA-006", "5.3"),
        product_kind="osd",
        weights=(4, 5, 1),
        capa_plans=(
            CapaPlan(
                "Individual accounts on press HMIs",
                "Generic account available on HMI.",
                "Remove generic accounts; individual badge login on TP-201/TP-202.",
                "Automation lead",
                effective=True,
                scope=("TP-201", "TP-202"),
                trigger_count=3,
            ),
        ),
    ),
)
