"""Production SOPs of the demo plant: oral solid dose (B1), packaging and sterile filling (B2)."""

from __future__ import annotations

from evals.plant.sop_model import Section, SopSpec, history, limits_text, mbr_row, row

PROD_RESP = (
    ("Operator", "Performs the steps and records actual values in the batch record."),
    ("Supervisor", "Verifies critical steps and informs QA of any excursion."),
    ("QA", "Approves the procedure and reviews deviations."),
)
OSD_PRODUCTS = ("PRD-0042", "PRD-0043", "PRD-0051")

PRODUCTION_SOPS: tuple[SopSpec, ...] = (
    SopSpec(
        "SOP-PRD-010",
        "Dispensing of raw materials",
        "To define weighing and dispensing of starting materials for oral solid dose batches.",
        "Dispensing booth of building B1.",
        PROD_RESP,
        (
            Section(
                "Preparation",
                "Check the balance calibration status and daily verification before use.",
            ),
            Section(
                "Weighing",
                "Weigh each material against the MBR quantity; a second person verifies.",
                rows=(
                    mbr_row("API net weight"),
                    row("Balance daily check", "%", "-0.1", "0.1", "Against reference weight"),
                ),
            ),
            Section(
                "Labelling",
                "Label each container with material, lot, net weight, batch and initials.",
            ),
        ),
        ("Dispensing record",),
        history(
            ("2019-01-14", "New procedure"), ("2023-02-06", "Second-person verification added")
        ),
        equipment=("BAL-12",),
        products=OSD_PRODUCTS,
    ),
    SopSpec(
        "SOP-PRD-011",
        "High-shear wet granulation",
        "To define the operation of the high-shear granulators for wet granulation.",
        "Granulators GR-101 and GR-201.",
        PROD_RESP,
        (
            Section(
                "Dry mixing",
                "Load the materials and dry mix.",
                rows=(mbr_row("Impeller speed"), mbr_row("Mixing time")),
            ),
            Section(
                "Binder addition",
                "Add the binder solution through the spray nozzle at the set spray rate.",
                rows=(mbr_row("Spray rate", "Binder addition, MBR step 4.1"),),
            ),
            Section(
                "Wet massing end point",
                f"Wet mass until the impeller power end point is reached "
                f"({limits_text('Impeller power')}). If the end point is not reached or is "
                "exceeded, stop and inform the supervisor.",
                rows=(
                    mbr_row("Impeller power", "End point"),
                    row("Wet massing time", "min", "2", "6", "Guidance"),
                ),
            ),
            Section(
                "Wet milling", "Discharge through the wet mill with a 6 mm screen into the dryer."
            ),
        ),
        ("Batch record", "Granulator print-out"),
        history(
            ("2018-05-07", "New procedure"),
            ("2022-08-01", "Impeller power end point introduced"),
            ("2024-10-14", "Periodic review"),
        ),
        equipment=("GR-101", "GR-201"),
        products=OSD_PRODUCTS,
    ),
    SopSpec(
        "SOP-PRD-012",
        "Fluid-bed drying of granules",
        "To define the fluid-bed drying of wet granules to the specified loss on drying.",
        "Fluid-bed dryers FBD-101, FBD-201 and FBD-202 in building B1.",
        PROD_RESP,
        (
            Section(
                "Preparation",
                "Check filter bags are intact and the correct bag set is fitted; record the bag "
                "set number.",
            ),
            Section(
                "Loading",
                "Transfer wet granules from the wet mill directly into the product container.",
            ),
            Section(
                "Inlet air temperature control",
                "Start drying with a pre-heat ramp of 5 minutes to the set point of 60 C. The "
                "inlet air temperature must stay within the limits below; an excursion above the "
                "upper limit for more than 1 minute is a deviation.",
                rows=(
                    mbr_row("Inlet air temperature", "Pre-heat ramp 5 min; alarm at 64 C"),
                    mbr_row("Product temperature", "End point indicator"),
                ),
                old_text={
                    3: "Start drying at the set point of 60 C. The inlet air temperature must stay "
                    "within the limits below."
                },
            ),
            Section(
                "Filter bag handling",
                "Filter shaking runs automatically every 30 seconds. If the filter differential "
                "pressure exceeds the upper limit, pause drying and inform the supervisor.",
                rows=(
                    mbr_row("Filter differential pressure"),
                    row("Filter shaking interval", "s", "-", "30", "PLC recipe"),
                ),
            ),
            Section(
                "Drying end point",
                "Drying is complete when the product temperature and LOD are within limits.",
                rows=(
                    mbr_row("Loss on drying", "IPC, halogen moisture analyser"),
                    mbr_row("Product temperature"),
                ),
                subs=(
                    Section(
                        "LOD sampling",
                        "Take three samples from the top, middle and bottom of the bed.",
                    ),
                    Section(
                        "Extended drying",
                        "If LOD is above the upper limit, dry for 5 further minutes and retest.",
                    ),
                ),
            ),
        ),
        ("Batch record", "Dryer trend print-out"),
        history(
            ("2017-03-06", "New procedure"),
            ("2019-09-02", "Product temperature end point added"),
            ("2022-04-04", "LOD sampling positions defined"),
            (
                "2025-03-01",
                "Pre-heat ramp, inlet temperature limits 55-65 C, alarm at 64 C (CAPA for FBD-201 "
                "overshoot)",
            ),
        ),
        equipment=("FBD-101", "FBD-201", "FBD-202"),
        products=OSD_PRODUCTS,
        superseded_pdfs=(3,),
        old_limits={3: {"Inlet air temperature": ("50", "70", "MBR step 6.1")}},
    ),
    SopSpec(
        "SOP-PRD-013",
        "Blending and lubrication",
        "To define final blending and lubrication of dried granules.",
        "Bin blenders BL-101 and BL-201.",
        PROD_RESP,
        (
            Section("Loading", "Load dried granules and extra-granular excipients into the bin."),
            Section(
                "Lubrication",
                "Add magnesium stearate and blend.",
                rows=(mbr_row("Blend time"), row("Blender speed", "rpm", "10", "14", "")),
            ),
            Section(
                "Blend uniformity",
                "Sample blend uniformity at 10 locations for validation batches only.",
            ),
        ),
        ("Batch record",),
        history(("2018-07-02", "New procedure"), ("2023-06-05", "Periodic review")),
        equipment=("BL-101", "BL-201"),
        products=OSD_PRODUCTS,
    ),
    SopSpec(
        "SOP-PRD-014",
        "Tablet compression",
        "To define compression of tablets and in-process controls.",
        "Rotary presses TP-101, TP-201 and TP-202.",
        PROD_RESP,
        (
            Section(
                "Set-up",
                "Fit the tooling set listed in the MBR and record its number. Check the room "
                "conditions.",
                rows=(mbr_row("Room relative humidity"),),
            ),
            Section(
                "Start-up",
                "Adjust fill depth and compression force until IPC results are within limits.",
                rows=(mbr_row("Main compression force"),),
            ),
            Section("Running", "Monitor the press every 15 minutes; record weight control chart."),
            Section(
                "In-process controls",
                "Every 30 minutes test 20 tablets for weight and 10 for hardness. An IPC result "
                "outside limits stops the press; tablets since the last passing IPC are "
                "segregated.",
                rows=(
                    mbr_row("Tablet weight (mean of 20)", "Individual weights 190 - 210 mg"),
                    mbr_row("Tablet hardness"),
                    row("Friability", "%", "-", "1.0", "Start and end of batch"),
                ),
            ),
        ),
        ("Batch record", "IPC print-out"),
        history(
            ("2017-05-08", "New procedure"),
            ("2019-11-04", "IPC frequency 30 min"),
            ("2021-10-04", "Room RH check added"),
            ("2022-09-05", "Weight limits per MBR"),
            ("2023-11-06", "Segregation rule"),
            ("2025-09-01", "Tablet weight limits 194-206 mg"),
        ),
        equipment=("TP-101", "TP-201", "TP-202"),
        products=OSD_PRODUCTS,
        superseded_pdfs=(5,),
        old_limits={
            5: {"Tablet weight (mean of 20)": ("192", "208", "Individual weights 188 - 212 mg")}
        },
    ),
    SopSpec(
        "SOP-PRD-015",
        "Film coating of tablets",
        "To define film coating of tablet cores in perforated pan coaters.",
        "Coaters CT-101 and CT-201.",
        PROD_RESP,
        (
            Section(
                "Suspension preparation",
                "Prepare the coating suspension and stir for 45 minutes; sieve through 250 um "
                "before use.",
            ),
            Section(
                "Pre-warming",
                "Warm the tablet bed to an exhaust temperature within limits.",
                rows=(mbr_row("Exhaust air temperature"),),
            ),
            Section(
                "Spray parameters",
                "Spray at the set rate with atomising air at 2.0 bar. A spray rate below the "
                "lower limit indicates a blocked nozzle: pause and clean.",
                rows=(
                    mbr_row("Spray rate"),
                    row("Atomising air pressure", "bar", "1.8", "2.2", ""),
                    row("Pan speed", "rpm", "6", "10", ""),
                ),
            ),
            Section(
                "End point",
                "Coating ends at the target weight gain.",
                rows=(mbr_row("Weight gain"),),
            ),
        ),
        ("Batch record", "Coater trend print-out"),
        history(
            ("2018-03-05", "New procedure"),
            ("2022-11-07", "Weight gain end point"),
            ("2024-08-05", "Nozzle cleaning instruction"),
        ),
        equipment=("CT-101", "CT-201"),
        products=OSD_PRODUCTS,
    ),
    SopSpec(
        "SOP-PRD-016",
        "Cleaning and line clearance of oral solid dose equipment",
        "To define cleaning of equipment and line clearance between batches and products.",
        "Production rooms and equipment of building B1.",
        PROD_RESP,
        (
            Section(
                "Cleaning types",
                "Type A (batch to batch, same product) and type B (product changeover).",
            ),
            Section(
                "Change parts",
                "Remove and clean change parts listed in the equipment cleaning list, including "
                "spray guns and anti-bearding caps of coaters.",
            ),
            Section(
                "Line clearance",
                "Before a batch starts, the operator and a second person check the room and "
                "equipment for remains of the previous batch.",
                rows=(
                    mbr_row("Line clearance check", "Pass / fail"),
                    row("Visual cleanliness", "-", "-", "-", "No visible residue"),
                ),
            ),
        ),
        ("Cleaning log", "Line clearance checklist"),
        history(
            ("2017-02-06", "New procedure"), ("2023-05-01", "Coater change parts list updated")
        ),
        equipment=(
            "GR-101",
            "GR-201",
            "FBD-101",
            "FBD-201",
            "FBD-202",
            "TP-101",
            "TP-201",
            "TP-202",
            "CT-101",
            "CT-201",
        ),
        products=OSD_PRODUCTS,
    ),
    SopSpec(
        "SOP-PKG-001",
        "Label control and packaging line clearance",
        "To prevent label mix-ups through control of label issue, use, reconciliation and "
        "destruction.",
        "Packaging line with labeller LBL-101.",
        PROD_RESP,
        (
            Section(
                "Label issue",
                "Labels are issued by the label store against the packaging order in sealed, "
                "counted rolls.",
            ),
            Section(
                "Line clearance",
                "Before labelling, the operator removes all labels and rolls of the previous "
                "batch and records the check.",
            ),
            Section(
                "Label roll verification",
                "The operator verifies the roll identity (product, strength, text version) "
                "against the packaging order before loading.",
            ),
            Section(
                "Vision system",
                "The vision system checks every label code; the challenge test is run at start "
                "and end of each batch.",
            ),
            Section(
                "Label reconciliation",
                "At the end of the batch, issued labels = used + returned + destroyed. Any "
                "difference is a deviation.",
                old_text={
                    2: "At the end of the batch, reconcile issued and used labels. Differences of "
                    "more than 2 labels are investigated."
                },
                rows=(
                    mbr_row("Label reconciliation difference", "Printed labels"),
                    row("Vision system challenge", "-", "-", "-", "Start and end of batch"),
                ),
            ),
        ),
        ("Packaging record", "Label reconciliation sheet"),
        history(
            ("2018-08-06", "New procedure"),
            ("2022-06-07", "Vision system challenge at start and end"),
            ("2024-11-04", "Reconciliation formula clarified"),
        ),
        equipment=("LBL-101",),
        products=OSD_PRODUCTS,
        superseded_pdfs=(2,),
        old_limits={
            2: {
                "Label reconciliation difference": ("-", "2", "Differences up to 2 labels accepted")
            }
        },
    ),
    SopSpec(
        "SOP-STE-001",
        "Aseptic gowning and behaviour in grade A/B",
        "To define gowning and aseptic behaviour for operators working in the aseptic core.",
        "Grade B cleanrooms and RABS-301 in building B2.",
        PROD_RESP,
        (
            Section(
                "Entry to grade B",
                "Change into grade B garments in the gowning room following the posted sequence.",
            ),
            Section(
                "Glove change",
                "Sterile gloves are changed at the start of each shift and whenever damaged.",
            ),
            Section(
                "Gowning qualification",
                "Operators are qualified by three consecutive successful gowning sessions with "
                "surface samples.",
            ),
            Section(
                "Glove sanitisation and interventions",
                "Before and after each RABS intervention the operator sanitises gloves with "
                "sterile 70% IPA, checks the RABS glove for integrity and records the "
                "intervention in the batch record. A glove print is taken after each "
                "intervention.",
                rows=(
                    row("Glove print after intervention", "CFU", "-", "0", "Grade A action limit"),
                    row("Sanitisation contact time", "s", "10", "-", "Sterile 70% IPA"),
                ),
                old_text={
                    3: "Interventions are performed through RABS gloves following the intervention "
                    "list. A glove print is taken after each intervention."
                },
            ),
        ),
        ("Gowning qualification records", "Intervention log"),
        history(
            ("2016-10-03", "New procedure"),
            ("2019-06-03", "Qualification frequency yearly"),
            ("2022-05-02", "Intervention list added"),
            (
                "2024-12-02",
                "Mandatory glove sanitisation and integrity check after each intervention (CAPA)",
            ),
        ),
        equipment=("RABS-301",),
        products=("PRD-0107",),
        superseded_pdfs=(3,),
    ),
    SopSpec(
        "SOP-STE-002",
        "Aseptic filling of vials",
        "To define aseptic filling, stoppering and in-process controls on line L3.",
        "Filling machine FL-301 in RABS-301.",
        PROD_RESP,
        (
            Section("Set-up", "Assemble sterilised product path and needles under grade A."),
            Section("Start-up", "Adjust fill volume before release of filling."),
            Section(
                "Fill volume control",
                "Check fill volume by weight on all needles every 30 minutes. Vials since the "
                "last passing check are rejected if a result is out of limits.",
                rows=(
                    mbr_row("Fill volume", "Gravimetric, density 1.01 g/mL", sterile=True),
                    row("Fill check frequency", "min", "-", "30", "All needles"),
                ),
            ),
            Section(
                "Interventions",
                "Only interventions on the approved list are allowed; each is recorded.",
            ),
        ),
        ("Batch record", "Fill weight print-outs"),
        history(
            ("2017-01-09", "New procedure"),
            ("2021-12-06", "Fill check every 30 min"),
            ("2024-05-06", "Intervention list reference"),
        ),
        equipment=("FL-301", "RABS-301"),
        products=("PRD-0107",),
    ),
    SopSpec(
        "SOP-STE-003",
        "Sterile filtration and filter integrity testing",
        "To define sterile filtration of bulk solution and integrity testing of sterilising "
        "filters.",
        "Filter housing FIL-301 and integrity tester in building B2.",
        PROD_RESP,
        (
            Section("Pre-use integrity test", "Test the sterilised filter before use (PUPSIT)."),
            Section("Filtration", "Filter the bulk at a differential pressure below 2.0 bar."),
            Section(
                "Post-use integrity test",
                "Flush the filter with at least 10 L WFI per 10-inch element before the bubble "
                "point test.",
                rows=(
                    mbr_row(
                        "Filter integrity, bubble point (post-use)",
                        "Product-wetted limit",
                        sterile=True,
                    ),
                    row("Wetting flush volume", "L per 10-inch", "10", "-", "WFI"),
                ),
                old_text={2: "Wet the filter and perform the bubble point test."},
            ),
        ),
        ("Integrity test print-outs",),
        history(
            ("2018-01-08", "New procedure"),
            ("2022-02-07", "PUPSIT introduced"),
            ("2023-10-02", "Minimum wetting flush volume (CAPA)"),
        ),
        equipment=("FIL-301",),
        products=("PRD-0107",),
        superseded_pdfs=(2,),
        old_limits={2: {"Wetting flush volume": ("-", "-", "Not defined")}},
    ),
    SopSpec(
        "SOP-STE-004",
        "Depyrogenation tunnel operation",
        "To define operation of the depyrogenation tunnel for glass vials.",
        "Tunnel TUN-301.",
        PROD_RESP,
        (
            Section(
                "Start-up",
                "Start the tunnel 2 hours before filling; verify the hot zone is at set point.",
            ),
            Section(
                "Hot-zone temperature",
                "The hot-zone temperature is recorded continuously. If it falls below the lower "
                "limit the belt stops automatically; vials in the tunnel are rejected.",
                rows=(
                    mbr_row("Tunnel hot-zone temperature", sterile=True),
                    row("Belt speed", "mm/min", "90", "110", "Validated range"),
                ),
            ),
            Section("Shut-down", "Cool down with the belt empty."),
        ),
        ("Tunnel temperature print-outs",),
        history(("2017-06-05", "New procedure"), ("2023-07-03", "Automatic belt stop")),
        equipment=("TUN-301",),
        products=("PRD-0107",),
    ),
    SopSpec(
        "SOP-STE-005",
        "Environmental monitoring of cleanrooms",
        "To define viable and non-viable environmental monitoring of grade A and B areas.",
        "Aseptic core of building B2.",
        (
            ("EM technician", "Performs sampling."),
            ("QC microbiology", "Incubates and reads samples."),
            ("QA", "Reviews excursions."),
        ),
        (
            Section("Sampling plan", "Sampling locations are defined by risk assessment."),
            Section(
                "Viable monitoring",
                "Settle plates for 4 h, active air and contact plates per session.",
                rows=(
                    mbr_row("Glove print, settle plate", "Grade A action limit", sterile=True),
                    row("Active air grade A", "CFU/m3", "-", "1", ""),
                ),
            ),
            Section(
                "Non-viable monitoring",
                "Continuous particle monitoring at the filling needles.",
                rows=(
                    mbr_row("Grade A particles >=0.5 um", "Action limit", sterile=True),
                    row("Grade A particles >=5 um", "count/m3", "-", "29", "Action limit"),
                ),
            ),
        ),
        ("EM reports", "Particle monitoring trends"),
        history(("2016-09-05", "New procedure"), ("2023-08-28", "Annex 1 (2022) alignment")),
        equipment=("RABS-301",),
        products=("PRD-0107",),
    ),
)
