//! The foundation's end-to-end scenario, over a real TCP socket and real
//! HTTP, on SQLite and on PostgreSQL: receipt, reservation, issue and
//! transfusion of one unit; another unit with a reaction; one wasted; one
//! left open. Then the traces, the stored messages, duplicates and refusals.

mod common;

use common::*;
use hemobridge_canonical::FacilityKind;
use serde_json::Value;

const H: &str = "H3201001";

fn msh(facility: &str, kind: &str, control_id: &str, at: &str) -> String {
    format!("MSH|^~\\&|LIS|{facility}|HEMOBRIDGE|PROVINCE|{at}||{kind}|{control_id}|P|2.5|||||CHN|UNICODE UTF-8")
}

fn bpx(status: &str, at: &str, din: &str, product: &str, group: &str) -> String {
    format!("BPX|1|{status}^^HL70510|F|{at}|{din}^^^ISBT128|{product}|||||{group}||20261220235959+0800|1||||WARD7^701")
}

fn bps(control_id: &str, at: &str, patient: Option<&str>, bpx_segment: &str) -> String {
    let mut segments = vec![msh(H, "BPS^O29^BPS_O29", control_id, at)];
    if let Some(p) = patient {
        segments.push(format!("PID|1||{p}^^^{H}^MR||王^小明||19900101|M"));
    }
    segments.push(format!("ORC|SC|ORD-{control_id}^{H}"));
    segments.push("BPO|1|RBC-LR^去白细胞悬浮红细胞^HB||1".into());
    segments.push(bpx_segment.into());
    segments.join("\r") + "\r"
}

/// A BTS^O31 for one red-cell unit of patient P0001.
fn bts(
    control_id: &str,
    at: &str,
    din: &str,
    status: &str,
    start: &str,
    end: &str,
    reactions: &str,
) -> String {
    hl7(&[
        &msh(H, "BTS^O31^BTS_O31", control_id, at),
        &format!("PID|1||P0001^^^{H}^MR||王^小明||19900101|M"),
        &format!("ORC|SC|ORD-{control_id}^{H}"),
        "BPO|1|RBC-LR^去白细胞悬浮红细胞^HB||1",
        &format!("BTX|1|{din}^^^ISBT128|{}|5100^O RhD POS^ISBT128||||1|||{status}^^HL70513|F|{at}|||{start}|{end}|{reactions}", rbc()),
    ])
}

fn scenario() -> Vec<String> {
    let rbc = "RBC-LR^去白细胞悬浮红细胞^HB";
    vec![
        hl7(&[
            &msh(H, "ADT^A01^ADT_A01", "E2E-ADT-1", "20261122070000+0800"),
            &format!(
                "PID|1||P0001^^^{H}^MR~320102199001010010^^^身份证^NNCHN||王^小明||19900101|M"
            ),
            &format!("PV1|1|I|WARD7^701^1^{H}"),
        ]),
        // Unit A: received, reserved (crossmatch compatible), issued, transfused.
        bps(
            "E2E-A1",
            "20261122080000+0800",
            None,
            &bpx("CR", "20261122080000+0800", "W000026000101", rbc, "5100"),
        ),
        bps(
            "E2E-A2",
            "20261122090000+0800",
            Some("P0001"),
            &bpx("RS", "20261122090000+0800", "W000026000101", rbc, "O+"),
        ),
        bps(
            "E2E-A3",
            "20261122100000+0800",
            Some("P0001"),
            &bpx(
                "DS",
                "20261122100000+0800",
                "W000026000101",
                rbc,
                "O RhD POS",
            ),
        ),
        bts(
            "E2E-A4",
            "20261122120000+0800",
            "W000026000101",
            "TX",
            "20261122103000+0800",
            "20261122113000+0800",
            "",
        ),
        // Unit B: received, issued, transfused with an allergic reaction.
        bps(
            "E2E-B1",
            "20261122080100+0800",
            None,
            &bpx(
                "CR",
                "20261122080100+0800",
                "W000026000102",
                rbc,
                "O型Rh阳性",
            ),
        ),
        bps(
            "E2E-B2",
            "20261122100100+0800",
            Some("P0001"),
            &bpx("DS", "20261122100100+0800", "W000026000102", rbc, "5100"),
        ),
        bts(
            "E2E-B3",
            "20261122130000+0800",
            "W000026000102",
            "TR",
            "20261122110000+0800",
            "20261122114500+0800",
            "ALLERGIC1^Allergic reaction^HL70514",
        ),
        // Unit C: plasma received, then wasted.
        bps(
            "E2E-C1",
            "20261122080200+0800",
            None,
            &bpx(
                "CR",
                "20261122080200+0800",
                "W000026000103",
                "PLS-FFP^新鲜冰冻血浆^HB",
                "A RhD+",
            ),
        ),
        bps(
            "E2E-C2",
            "20261123080000+0800",
            None,
            &bpx(
                "WA",
                "20261123080000+0800",
                "W000026000103",
                "PLS-FFP^新鲜冰冻血浆^HB",
                "A RhD+",
            ),
        ),
        // Unit D: platelets received and issued; nothing since.
        bps(
            "E2E-D1",
            "20261122080300+0800",
            None,
            &bpx(
                "CR",
                "20261122080300+0800",
                "W000026000104",
                "单采血小板",
                "B+",
            ),
        ),
        bps(
            "E2E-D2",
            "20261122140000+0800",
            Some("P0001"),
            &bpx(
                "DS",
                "20261122140000+0800",
                "W000026000104",
                "单采血小板",
                "B+",
            ),
        ),
    ]
}

fn kinds(chain: &Value) -> Vec<String> {
    chain["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfusion_scenario_over_mllp_and_http() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let data = dir.path().join(db.label);
        let running = start(&data, &db).await;
        let token = register(&running, H, FacilityKind::Hospital).await;
        let other = register(&running, "H3201999", FacilityKind::Hospital).await;

        let messages = scenario();
        let acks = send_all(&running, &messages).await;
        for (ack, message) in acks.iter().zip(&messages) {
            let control_id = message.split('|').nth(9).unwrap();
            assert_eq!(
                msa(ack),
                ("AA".to_string(), control_id.to_string()),
                "[{}] {ack}",
                db.label
            );
            assert!(
                ack.contains("|LIS|") || ack.contains("HEMOBRIDGE|PROVINCE|LIS"),
                "sender/receiver swapped: {ack}"
            );
        }
        wait_processed(&running).await;

        // Unit A: the full chain.
        let (status, a) = get(&running, "/api/v1/trace/units/W000026000101", &token).await;
        assert_eq!(status, 200, "[{}] {a}", db.label);
        assert_eq!(
            kinds(&a),
            [
                "received",
                "crossmatched",
                "reserved",
                "issued",
                "transfused"
            ],
            "[{}] {a}",
            db.label
        );
        assert_eq!(a["complete"], true, "[{}] {a}", db.label);
        assert_eq!(a["unit"]["product"], "RBC-LR");
        assert_eq!(a["unit"]["abo"], "O");
        assert_eq!(a["unit"]["rh"], "+");
        assert_eq!(a["unit"]["hospital"], H);
        let transfused = &a["events"][4];
        assert_eq!(transfused["patientKey"], "P0001");
        assert_eq!(transfused["at"], "2026-11-22T11:30:00+08:00");
        assert_eq!(transfused["source"]["channel"], "mllp");

        // Unit B: transfused, then the reaction with its national category.
        let (_, b) = get(&running, "/api/v1/trace/units/W000026000102", &token).await;
        assert_eq!(
            kinds(&b),
            ["received", "issued", "transfused", "reaction"],
            "[{}] {b}",
            db.label
        );
        assert_eq!(b["events"][3]["detail"]["reactionCategory"], "allergic");
        assert_eq!(b["complete"], true);

        // Unit C: discarded is a final disposition.
        let (_, c) = get(&running, "/api/v1/trace/units/W000026000103", &token).await;
        assert_eq!(kinds(&c), ["received", "discarded"]);
        assert_eq!(c["complete"], true);
        assert_eq!(c["unit"]["category"], "plasma");

        // Unit D: issued and never finished: incomplete, with the gap named.
        let (_, d) = get(&running, "/api/v1/trace/units/W000026000104", &token).await;
        assert_eq!(d["complete"], false, "{d}");
        assert_eq!(d["gaps"][0]["code"], "issued-without-outcome", "{d}");
        assert_eq!(d["unit"]["product"], "PLT-APH");

        // The patient's units: every unit with a clinical event for P0001.
        let (status, p) = get(&running, "/api/v1/trace/patients/P0001", &token).await;
        assert_eq!(status, 200, "{p}");
        let dins: Vec<&str> = p["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["unit"]["din"].as_str().unwrap())
            .collect();
        assert_eq!(dins, ["W000026000101", "W000026000102", "W000026000104"]);

        // Another hospital sees none of it.
        let (status, _) = get(&running, "/api/v1/trace/units/W000026000101", &other).await;
        assert_eq!(status, 404);
        // No token, no answer.
        let (status, _) = get(&running, "/api/v1/trace/units/W000026000101", "nonsense").await;
        assert_eq!(status, 401);

        // A repeated control id: the same ACK, nothing applied twice.
        let again = send_all(&running, &messages[4..5]).await;
        assert_eq!(
            again[0], acks[4],
            "duplicate must be answered with the first ACK"
        );
        wait_processed(&running).await;
        let (_, a2) = get(&running, "/api/v1/trace/units/W000026000101", &token).await;
        assert_eq!(kinds(&a2).len(), 5, "a duplicate must not add events");
        let (_, dups) = get(&running, "/api/v1/messages?status=duplicate", "test-admin").await;
        assert_eq!(dups["items"].as_array().unwrap().len(), 1, "{dups}");

        // Refusals are stored too, with their reasons.
        let unknown = hl7(&[
            &msh("NOBODY", "ADT^A01", "E2E-X1", "20261122070000+0800"),
            "PID|1||X1^^^NOBODY^MR||李^四",
        ]);
        let unsupported = hl7(&[
            &msh(H, "ORU^R01^ORU_R01", "E2E-X2", "20261122070000+0800"),
            "PID|1||X2",
        ]);
        let invalid = bps(
            "E2E-X3",
            "20261122070000+0800",
            None,
            &bpx("CR", "20261122070000+0800", "W000026000199", rbc(), "C"),
        );
        let refused = send_all(&running, &[unknown, unsupported, invalid]).await;
        assert_eq!(msa(&refused[0]).0, "AR", "{}", refused[0]);
        assert_eq!(msa(&refused[1]).0, "AR", "{}", refused[1]);
        assert!(
            refused[1].contains("|200^"),
            "ERR code 200 expected: {}",
            refused[1]
        );
        assert_eq!(msa(&refused[2]).0, "AE", "{}", refused[2]);
        assert!(
            refused[2].contains("BPX^1^11"),
            "ERR must point at BPX-11: {}",
            refused[2]
        );
        let (_, rejected) = get(&running, "/api/v1/messages?status=rejected", "test-admin").await;
        assert_eq!(rejected["items"].as_array().unwrap().len(), 2, "{rejected}");
        let (_, errors) = get(&running, "/api/v1/messages?status=error", "test-admin").await;
        let err_id = errors["items"][0]["id"].as_i64().unwrap();
        let (_, stored) = get(
            &running,
            &format!("/api/v1/messages/{err_id}"),
            "test-admin",
        )
        .await;
        assert!(stored["raw"].as_str().unwrap().contains("E2E-X3"));
        assert!(stored["ack"].as_str().unwrap().contains("MSA|AE|E2E-X3"));

        // A stored message shows the events it produced.
        let (_, found) = get(
            &running,
            "/api/v1/messages?controlId=E2E-A4&status=ok",
            &token,
        )
        .await;
        let id = found["items"][0]["id"].as_i64().unwrap();
        let (status, one) = get(&running, &format!("/api/v1/messages/{id}"), &token).await;
        assert_eq!(status, 200);
        assert_eq!(one["status"], "ok");
        assert_eq!(one["type"], "BTS^O31");
        assert_eq!(one["events"][0]["kind"], "transfused");
        // … and only to its own hospital.
        let (status, _) = get(&running, &format!("/api/v1/messages/{id}"), &other).await;
        assert_eq!(status, 404);

        running.stop().await;
    }
}

fn rbc() -> &'static str {
    "RBC-LR^去白细胞悬浮红细胞^HB"
}
