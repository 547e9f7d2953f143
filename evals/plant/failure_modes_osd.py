"""Failure modes of the oral solid dose building (B1): granulation to compression and coating."""

from __future__ import annotations

from evals.plant.failure_mode_model import CapaPlan, FailureMode

OSD_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="fbd_inlet_temp_overshoot",
        category="equipment",
        root_cause_6m="machine",
        root_cause="Steam control valve on the dryer inlet air heater sticks and the temperature "
        "PID loop overshoots at heat-up; the valve positioner and loop tuning were never "
        "re-qualified after the 2021 heater replacement.",
        titles=(
            "Inlet air temperature above limit during fluid-bed drying",
            "FBD inlet air temp excursion",
            "T-inlet high on {eq}",
        ),
        terse=(
            "{eq} T-inlet {val}{unit} > {lim}, drying step, batch {batch}. alarm ack, steam "
            "manually reduced. QA informed",
            "inlet air temp hi on {eq} ({val} {unit}), lim {lim}. operator reduced setpoint, temp "
            "back in range aprox 6 min",
            "T inlet {val}C on {eq} exceeded UL {lim}C at heat up. batch {batch} on hold",
        ),
        prose=(
            "During fluid-bed drying of batch {batch} the inlet air temperature of {eq} rose to "
            "{val} {unit}, above the upper limit of {lim} {unit}, for several minutes during "
            "heat-up. The operator reduced the steam supply and the temperature returned within "
            "limits.",
            "An inlet air temperature excursion to {val} {unit} (limit {lim} {unit}) was recorded "
            "on {eq} while drying batch {batch}. The batch was placed on hold pending impact "
            "assessment of product temperature and LOD.",
        ),
        immediate=(
            "Batch placed on hold; product temperature and LOD reviewed",
            "Steam supply reduced manually; maintenance called to check TCV",
            "Batch quarantined, QA notified, trend of inlet temperature printed",
        ),
        rates={"FBD-201": 0.55, "FBD-101": 0.15, "FBD-202": 0.08},
        sop=("SOP-PRD-012", "5.3"),
        product_kind="osd",
        step_id="6.1",
        parameter="Inlet air temperature",
        direction="high",
        excursion=(1.0, 8.0),
        weights=(5, 4, 1),
        capa_plans=(
            CapaPlan(
                "Replace inlet air steam control valve on FBD-201",
                "Worn inlet air steam control valve.",
                "Replace TCV-201 with a new valve of the same type; verify heat-up profile on one "
                "batch.",
                "Maintenance lead, B1",
                effective=False,
                scope=("FBD-201",),
                trigger_count=4,
                lead_days=60,
            ),
            CapaPlan(
                "Re-tune FBD-201 inlet air temperature loop and add valve positioner",
                "PID loop overshoot at heat-up; valve positioner missing; loop not re-qualified "
                "after heater change.",
                "Install smart positioner on TCV-201, re-tune PID with ramped set point, add "
                "pre-heat step and tighter alarm to SOP-PRD-012 (Rev 4).",
                "Process engineering manager",
                effective=True,
                scope=("FBD-201",),
                open_on="2024-12-02",
                lead_days=89,
            ),
        ),
        scenario_weight=5,
    ),
    FailureMode(
        id="fbd_filter_blinding",
        category="equipment",
        root_cause_6m="machine",
        root_cause="Filter shaking cycle timer on the dryer was set to 120 s instead of 30 s after "
        "a PLC software update, so fines blind the filter bags and the differential pressure "
        "rises.",
        titles=(
            "High filter differential pressure in fluid-bed dryer",
            "FBD filter dP high",
            "Filter bag blinding {eq}",
        ),
        terse=(
            "{eq} filter dP {val} {unit} (max {lim}), drying interrupted for shaking, batch "
            "{batch}",
            "filter dp hi {val}mbar {eq}. bags shaken manualy, continued",
        ),
        prose=(
            "The filter differential pressure of {eq} reached {val} {unit} against a maximum of "
            "{lim} {unit} during drying of batch {batch}. Drying was interrupted and the filter "
            "bags were shaken before resuming.",
        ),
        immediate=(
            "Drying paused, filter bags shaken, drying resumed after QA approval",
            "Filter bags inspected for tears; none found",
        ),
        rates={"FBD-202": 0.3, "FBD-201": 0.1},
        sop=("SOP-PRD-012", "5.4"),
        product_kind="osd",
        step_id="6.2",
        parameter="Filter differential pressure",
        direction="high",
        excursion=(1.0, 9.0),
        capa_plans=(
            CapaPlan(
                "Increase filter bag replacement frequency on FBD-202",
                "Filter bags at end of life.",
                "Replace filter bags every 50 batches instead of 100.",
                "Production supervisor L2",
                effective=False,
                scope=("FBD-202", "FBD-201"),
                trigger_count=5,
            ),
        ),
        scenario_weight=3,
    ),
    FailureMode(
        id="granulation_overwetting",
        category="process",
        root_cause_6m="method",
        root_cause="The binder spray rate can be changed at the HMI without an interlock and the "
        "MBR gives no maximum binder quantity per minute, so granules are over-wetted and the "
        "impeller power rises above the end-point limit.",
        titles=(
            "Impeller power above limit at wet massing",
            "Wet massing end point exceeded",
            "Granulator overload {eq}",
        ),
        terse=(
            "{eq} impeller power {val} kW > {lim}, wet massing stopped. batch {batch}",
            "power hi at wet mass {eq} {val}kW, binder added faster than normal",
        ),
        prose=(
            "At the wet massing step of batch {batch}, the impeller power of {eq} reached {val} "
            "{unit}, above the end-point limit of {lim} {unit}. Granules appeared over-wetted.",
        ),
        immediate=(
            "Wet massing stopped; granule sample sent for LOD and PSD",
            "Batch on hold pending assessment of granule properties",
        ),
        rates={"GR-201": 0.22, "GR-101": 0.1},
        sop=("SOP-PRD-011", "5.3"),
        product_kind="osd",
        step_id="4.2",
        parameter="Impeller power",
        direction="high",
        excursion=(0.3, 2.5),
        scenario_weight=3,
    ),
    FailureMode(
        id="api_coarse_particle_size",
        category="supplier",
        root_cause_6m="material",
        root_cause="API lots from the secondary supplier have a coarser particle size (d90 above "
        "180 um) that is within the API specification but outside the range the granulation was "
        "validated for, so wet massing under-develops and impeller power stays low.",
        titles=(
            "Impeller power below end-point limit",
            "Granulation end point not reached",
            "Low impeller power {eq}",
        ),
        terse=(
            "{eq} power only {val} kW (min {lim}) at end of wet mass, extended massing 2 min. "
            "batch {batch}",
            "low impeller pwr {eq} {val}kW. new API lot",
        ),
        prose=(
            "The wet massing end point was not reached for batch {batch}: the impeller power of "
            "{eq} stayed at {val} {unit}, below the lower limit of {lim} {unit}. The API lot used "
            "came from the secondary supplier.",
        ),
        immediate=(
            "Wet massing extended under QA approval; granules tested",
            "API lot placed on hold for particle size testing",
        ),
        rates={"GR-201": 0.12, "GR-101": 0.06},
        sop=("SOP-PRD-011", "5.3"),
        product_kind="osd",
        step_id="4.2",
        parameter="Impeller power",
        direction="low",
        excursion=(0.3, 1.8),
        capa_plans=(
            CapaPlan(
                "Add API particle size acceptance criterion for secondary supplier",
                "API particle size distribution not controlled for the process.",
                "Add d90 <= 150 um to the API incoming specification; supplier notified through "
                "quality agreement.",
                "QA supplier quality manager",
                effective=False,
                scope=("GR-201", "GR-101"),
                trigger_count=4,
                lead_days=150,
            ),
        ),
        scenario_weight=3,
    ),
    FailureMode(
        id="press_tooling_wear",
        category="equipment",
        root_cause_6m="machine",
        root_cause="Lower punches of the press tooling set are worn beyond the length tolerance "
        "because the tooling inspection interval is counted in calendar months, not in "
        "compression cycles, so die fill varies and tablet weight drifts.",
        titles=(
            "Tablet weight out of limits at compression IPC",
            "Tablet weight OOL",
            "IPC weight fail {eq}",
        ),
        terse=(
            "IPC wt {val} mg on {eq}, limit {lim}. press stopped, adjusted fill depth. batch "
            "{batch}",
            "{eq} tab weight drift, mean {val}mg. punches checked",
        ),
        prose=(
            "At the in-process control of batch {batch} the mean tablet weight on {eq} was {val} "
            "{unit}, beyond the limit of {lim} mg. The press was stopped and the fill depth "
            "adjusted; tablets since the last passing IPC were segregated.",
        ),
        immediate=(
            "Tablets since last passing IPC segregated; 100% weight sorting",
            "Press stopped; fill depth adjusted; tooling inspected",
        ),
        rates={"TP-201": 0.35, "TP-101": 0.08},
        sop=("SOP-PRD-014", "5.4"),
        product_kind="osd",
        step_id="8.3",
        parameter="Tablet weight (mean of 20)",
        direction="low",
        excursion=(0.5, 5.0),
        weights=(5, 4, 1),
        capa_plans=(
            CapaPlan(
                "Inspect and replace worn punches on TP-201",
                "Worn lower punches.",
                "Replace lower punch set on TP-201.",
                "Maintenance lead, B1",
                effective=False,
                scope=("TP-201",),
                trigger_count=4,
                lead_days=45,
            ),
        ),
        scenario_weight=5,
    ),
    FailureMode(
        id="granule_moisture_high",
        category="material",
        root_cause_6m="material",
        root_cause="Granule loss on drying at the upper edge of the range (2.4-2.5%) after short "
        "drying cycles makes the granule stick and flow poorly in the feed frame, so die fill and "
        "tablet weight vary.",
        titles=(
            "Tablet weight out of limits at compression IPC",
            "Weight variation, poor granule flow",
            "IPC weight fail {eq}",
        ),
        terse=(
            "{eq} IPC weight {val} mg OOL, granule sticky in feed frame. batch {batch}",
            "wt variation {eq} {val} mg, hopper bridging",
        ),
        prose=(
            "Tablet weight variation was observed on {eq} during compression of batch {batch}; "
            "the mean weight was {val} {unit}. Granule was observed bridging in the hopper and "
            "feed frame.",
        ),
        immediate=(
            "Compression paused; granule LOD retested",
            "Tablets segregated and 100% weight sorted",
        ),
        rates={"TP-202": 0.15, "TP-201": 0.1, "TP-101": 0.05},
        sop=("SOP-PRD-014", "5.4"),
        product_kind="osd",
        step_id="8.3",
        parameter="Tablet weight (mean of 20)",
        direction="high",
        excursion=(0.5, 4.0),
        summer_factor=1.6,
        scenario_weight=4,
    ),
    FailureMode(
        id="coating_nozzle_clogging",
        category="equipment",
        root_cause_6m="machine",
        root_cause="Spray gun nozzles of the coater clog with dried suspension because the "
        "anti-bearding caps are not part of the cleaning change parts list and are cleaned only "
        "monthly.",
        titles=(
            "Coating spray rate below limit",
            "Spray gun blockage during coating",
            "Low spray rate {eq}",
        ),
        terse=(
            "{eq} spray rate {val} g/min < {lim}. gun 2 blocked, cleaned. batch {batch}",
            "spray rt low {eq}, nozzel clogged",
        ),
        prose=(
            "During film coating of batch {batch} the spray rate on {eq} fell to {val} {unit}, "
            "below the lower limit of {lim} {unit}, because a spray gun nozzle was blocked. "
            "Coating was paused and the nozzle cleaned.",
        ),
        immediate=(
            "Coating paused; nozzle cleaned; tablets inspected for defects",
            "AQL visual inspection of coated tablets ordered",
        ),
        rates={"CT-201": 0.25, "CT-101": 0.1},
        sop=("SOP-PRD-015", "5.3"),
        product_kind="osd",
        step_id="9.2",
        parameter="Spray rate",
        direction="low",
        excursion=(5.0, 40.0),
        capa_plans=(
            CapaPlan(
                "Add anti-bearding caps to coater change parts cleaning",
                "Nozzle caps not cleaned between batches.",
                "Add anti-bearding caps to the change parts list of SOP-PRD-016; clean after "
                "every batch.",
                "Production supervisor L2",
                effective=True,
                scope=("CT-201",),
                trigger_count=5,
            ),
        ),
        scenario_weight=3,
    ),
    FailureMode(
        id="hvac_humidity_summer",
        category="environment",
        root_cause_6m="mother_nature",
        root_cause="The chilled-water coil of AHU-B1-02 is undersized for summer outdoor dew "
        "points, so room relative humidity in the compression suite exceeds 55% RH on hot humid "
        "days.",
        titles=(
            "Compression room humidity above limit",
            "RH excursion compression suite",
            "Room RH high B1",
        ),
        terse=(
            "RH {val}% in compr. room (max {lim}). AHU-B1-02. batch {batch} on press",
            "room RH hi {val} %RH, hot day, engineering informed",
        ),
        prose=(
            "The relative humidity in the compression suite served by AHU-B1-02 reached {val} "
            "{unit} against a limit of {lim} {unit} during compression of batch {batch}. Outdoor "
            "conditions were hot and humid.",
        ),
        immediate=(
            "Compression continued under QA approval with extra hardness and friability IPCs",
            "Engineering set AHU to max cooling; trend attached",
        ),
        rates={"AHU-B1-02": 0.6},
        summer_only=True,
        sop=("SOP-UTL-002", "5.2"),
        product_kind="osd",
        step_id="8.1",
        parameter="Room relative humidity",
        direction="high",
        excursion=(1.0, 9.0),
        capa_plans=(
            CapaPlan(
                "Install desiccant dehumidifier on AHU-B1-02",
                "Insufficient dehumidification capacity in summer.",
                "Install desiccant wheel on AHU-B1-02 fresh-air intake; requalify HVAC.",
                "Engineering manager",
                effective=True,
                scope=("AHU-B1-02",),
                open_on="2024-10-07",
                lead_days=182,
            ),
        ),
    ),
)
