//! The OpenAPI 3.1 document for the JSON API, written by hand beside the routes it describes
//! (and checked against the router by `tests/api.rs` in the binary crate).

use axum::Json;
use serde_json::{Value, json};

fn error_responses() -> Value {
    json!({
        "401": { "description": "No signed-in session", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "403": { "description": "The access policy refused", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
    })
}

fn with_errors(mut ok: Value) -> Value {
    if let (Some(map), Value::Object(errors)) = (ok.as_object_mut(), error_responses()) {
        map.extend(errors);
    }
    ok
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } })
}

fn csrf_header() -> Value {
    json!({ "name": "x-csrf-token", "in": "header", "required": true, "schema": { "type": "string" },
        "description": "The session's CSRF token (writes only)" })
}

pub(crate) fn document() -> Value {
    let open: Value = json!([]);
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Candidate Shield", "version": env!("CARGO_PKG_VERSION") },
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": "__Host-shield" }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" }, "field": { "type": "string" }, "message": { "type": "string" } } },
                "NewReport": { "type": "object", "required": ["category", "what", "happening_now"], "properties": {
                    "category": { "type": "string", "enum": shield_domain::report::Category::ALL.iter().map(|c| c.key()).collect::<Vec<_>>() },
                    "what": { "type": "string" }, "happening_now": { "type": "boolean" }, "when": { "type": "string" },
                    "where": { "type": "string" }, "who": { "type": "string", "description": "Offender identifiers, one per line" },
                    "pasted": { "type": "string" }, "links": { "type": "array", "items": { "type": "string" } } } }
            }
        },
        "security": [ { "session": [] } ],
        "paths": {
            "/api/openapi.json": { "get": { "operationId": "openapi", "summary": "This document", "security": open,
                "responses": { "200": { "description": "The OpenAPI document" } } } },
            "/range/{prefix}": { "get": { "operationId": "breachedPasswordRange",
                "summary": "Breached-password hashes starting with a 5-hex-digit SHA-1 prefix (k-anonymity; the shape of the Pwned Passwords range API). No sign-in; the password and its full hash never leave the client",
                "security": open,
                "parameters": [
                    { "name": "prefix", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[0-9A-Fa-f]{5}$" }, "description": "The first 5 hex digits of the password's SHA-1" },
                    { "name": "Add-Padding", "in": "header", "required": false, "schema": { "type": "string", "enum": ["true"] }, "description": "Pad the answer to 800-1,000 lines with random `SUFFIX:0` lines" },
                    { "name": "If-None-Match", "in": "header", "required": false, "schema": { "type": "string" } }
                ],
                "responses": {
                    "200": { "description": "One `SUFFIX:COUNT` line per hash (35 upper-case hex digits, CRLF line ends); cacheable for a day, with an ETag", "content": { "text/plain": { "schema": { "type": "string" } } } },
                    "304": { "description": "Not modified (If-None-Match matched the list's ETag)" },
                    "400": { "description": "The prefix is not exactly 5 hex digits", "content": { "text/plain": { "schema": { "type": "string" } } } },
                    "429": { "description": "Too many lookups from this address" },
                    "503": { "description": "No breached-password list has been imported" }
                } } },
            "/api/guidance": { "get": { "operationId": "listGuidance", "summary": "Published guidance articles, by title (`?tag=` physical, online, home, events, cyber or reporting)",
                "parameters": [ { "name": "tag", "in": "query", "required": false, "schema": { "type": "string", "enum": shield_domain::guidance::Tag::ALL.iter().map(|t| t.key()).collect::<Vec<_>>() } } ],
                "responses": with_errors(json!({ "200": { "description": "`articles`: slug, title, summary, tags, version, published_at_ms" }, "400": { "description": "Unknown tag" } })) } },
            "/api/guidance/{slug}": { "get": { "operationId": "guidanceArticle", "summary": "One published article: its Markdown and the rendered HTML (raw HTML removed, links checked)",
                "parameters": [ { "name": "slug", "in": "path", "required": true, "schema": { "type": "string" } } ],
                "responses": with_errors(json!({ "200": { "description": "slug, title, summary, tags, version, published_at_ms, markdown, html" }, "404": { "description": "No such published article" } })) } },
            "/healthz": { "get": { "operationId": "healthz", "summary": "Liveness", "security": open,
                "responses": { "200": { "description": "Alive" } } } },
            "/readyz": { "get": { "operationId": "readyz", "summary": "Readiness: the database answers", "security": open,
                "responses": { "200": { "description": "Ready" }, "503": { "description": "The database cannot be reached" } } } },
            "/api/me": { "get": { "operationId": "me", "summary": "The signed-in person: id, role, candidacy, forces",
                "responses": with_errors(json!({ "200": { "description": "The signed-in person" } })) } },
            "/api/me/contacts": { "get": { "operationId": "myContacts", "summary": "A candidate's named police contacts",
                "responses": with_errors(json!({ "200": { "description": "The forces and their named contacts" } })) } },
            "/api/me/reports": { "get": { "operationId": "myReports", "summary": "A candidate's own reports",
                "responses": with_errors(json!({ "200": { "description": "The reports" } })) } },
            "/api/reports": {
                "get": { "operationId": "reportQueue", "summary": "Open reports of a force (?force=CODE) or, for coordinators, of all forces, most urgent first",
                    "parameters": [ { "name": "force", "in": "query", "required": false, "schema": { "type": "string" } } ],
                    "responses": with_errors(json!({ "200": { "description": "The reports" } })) },
                "post": { "operationId": "createReport", "summary": "Report a concern (the candidate, or ?candidate=ID for a delegate); triaged P1-P4, routed to the named contacts, acknowledge-by deadline set",
                    "parameters": [ csrf_header(), { "name": "candidate", "in": "query", "required": false, "schema": { "type": "integer" } } ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewReport" } } } },
                    "responses": with_errors(json!({ "201": { "description": "Created: id, reference, priority and the reasons for it" }, "400": { "description": "A field is missing or invalid; `field` names it" } })) }
            },
            "/api/reports/{id}": { "get": { "operationId": "report", "summary": "A report with its details, messages (internal notes for police only) and timeline",
                "parameters": [ id_param() ],
                "responses": with_errors(json!({ "200": { "description": "The report" }, "404": { "description": "No such report" } })) } },
            "/api/reports/{id}/acknowledge": { "post": { "operationId": "acknowledgeReport", "summary": "Acknowledge and own a report (police and coordinators); stops escalation",
                "parameters": [ id_param(), csrf_header() ],
                "responses": with_errors(json!({ "200": { "description": "Acknowledged" }, "409": { "description": "Someone else acknowledged it first" } })) } },
            "/api/reports/{id}/status": { "post": { "operationId": "changeReportStatus", "summary": "Move a report to in_progress or closed (with an outcome), or reopen it",
                "parameters": [ id_param(), csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["status"], "properties": { "status": { "type": "string", "enum": ["in_progress", "closed"] }, "outcome": { "type": "string" } } } } } },
                "responses": with_errors(json!({ "200": { "description": "Changed" }, "409": { "description": "Not allowed from the current status" }, "422": { "description": "Closing needs an outcome" } })) } },
            "/api/scan": { "post": { "operationId": "scanMessages", "summary": "Scan up to 500 messages for threats, sexual threats, doxxing and abuse (rules, plus the model when installed); nothing is stored",
                "parameters": [ csrf_header(), { "name": "candidate", "in": "query", "required": false, "schema": { "type": "integer" } } ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["messages"], "properties": { "messages": { "type": "array", "maxItems": 500, "items": { "type": "object", "required": ["text"], "properties": { "id": {}, "text": { "type": "string" } } } } } } } } },
                "responses": with_errors(json!({ "200": { "description": "One result per message, in order: id, labels over the thresholds, scores, spans (character offsets), notes, and review: threat labels not flagged but scored close to the line, worth a person's look" }, "400": { "description": "No messages, or more than 500" } })) } },
            "/api/reports/{id}/messages": { "post": { "operationId": "sendReportMessage", "summary": "A secure message on a report; the other side gets a content-free email",
                "parameters": [ id_param(), csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["body"], "properties": { "body": { "type": "string" } } } } } },
                "responses": with_errors(json!({ "201": { "description": "Sent" } })) } },
            "/api/activities": {
                "get": { "operationId": "listActivities", "summary": "The candidate's upcoming campaign activities, soonest first (`?candidate=ID` for a delegate granted Report)",
                    "parameters": [ { "name": "candidate", "in": "query", "required": false, "schema": { "type": "integer" } } ],
                    "responses": with_errors(json!({ "200": { "description": "`activities`: id, kind, starts_at_ms, ends_at_ms, place, people, alone, checklist" } })) },
                "post": { "operationId": "registerActivity", "summary": "Register a campaign activity; the police of the candidate's forces see it and its venue",
                    "parameters": [ csrf_header(), { "name": "candidate", "in": "query", "required": false, "schema": { "type": "integer" } } ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["kind", "starts", "ends", "place", "people", "alone"], "properties": {
                        "kind": { "type": "string", "enum": shield_domain::checkin::ActivityKind::ALL.iter().map(|k| k.key()).collect::<Vec<_>>() },
                        "starts": { "type": "string", "description": "UK local time, 2026-05-07T18:00" }, "ends": { "type": "string", "description": "UK local time, after starts" },
                        "place": { "type": "string" }, "people": { "type": "integer", "minimum": 1 }, "alone": { "type": "boolean" },
                        "checklist": { "type": "array", "items": { "type": "string", "enum": ["exits", "someone_knows", "police"] }, "description": "Ticked items (hustings and surgeries)" } } } } } },
                    "responses": with_errors(json!({ "201": { "description": "Registered: the activity" }, "400": { "description": "A field is missing or invalid; `field` names it" } })) }
            },
            "/api/activities/{id}": { "get": { "operationId": "getActivity", "summary": "One activity: the candidate's side (delegates granted View) and the police of the candidate's forces",
                "parameters": [ id_param() ],
                "responses": with_errors(json!({ "200": { "description": "The activity, with `cancelled` and `revision` (the feed's SEQUENCE)" }, "404": { "description": "No such activity" } })) } },
            "/api/activities/{id}/checklist": { "post": { "operationId": "editActivityChecklist", "summary": "Replace the ticked pre-event checklist items of a hustings or surgery (the candidate, or a delegate granted Report)",
                "parameters": [ id_param(), csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["checklist"], "properties": {
                    "checklist": { "type": "array", "items": { "type": "string", "enum": ["exits", "someone_knows", "police"] } } } } } } },
                "responses": with_errors(json!({ "200": { "description": "The activity" }, "400": { "description": "Cancelled, no checklist for this kind, or an unknown item" } })) } },
            "/api/activities/{id}/cancel": { "post": { "operationId": "cancelActivity", "summary": "Cancel an activity: it stays listed as cancelled and its feed event carries STATUS:CANCELLED",
                "parameters": [ id_param(), csrf_header() ],
                "responses": with_errors(json!({ "200": { "description": "The activity, `cancelled: true`" } })) } },
            "/api/activities/force/calendar": { "get": { "operationId": "forceActivityMonth", "summary": "A month of a force's campaign activities (UK days), cancelled ones included; coordinators without `force` get every force",
                "parameters": [ { "name": "force", "in": "query", "required": false, "schema": { "type": "string" } },
                    { "name": "month", "in": "query", "required": false, "schema": { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$" }, "description": "2026-05; this month if absent" } ],
                "responses": with_errors(json!({ "200": { "description": "`month`, `force`, `from_ms`, `to_ms` and `activities`" }, "400": { "description": "A bad month" } })) } },
            "/api/check-ins/buddy": {
                "get": { "operationId": "getBuddy", "summary": "The candidate's check-in buddy (`null` if none): a sensitive detail, so it needs a recent sign-in and each read is audited",
                    "responses": with_errors(json!({ "200": { "description": "`buddy`: name, email, phone" } })) },
                "post": { "operationId": "setBuddy", "summary": "Name (or, with `remove`, remove) the buddy emailed with the named contact when a missed check-in, an overrun, the panic button or too many wrong PINs raise an alarm; never for a duress alarm",
                    "parameters": [ csrf_header() ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "properties": {
                        "name": { "type": "string" }, "email": { "type": "string", "format": "email" }, "phone": { "type": "string", "description": "A UK number" }, "remove": { "type": "boolean" } } } } } },
                    "responses": with_errors(json!({ "200": { "description": "The buddy as saved" }, "400": { "description": "A field is missing or invalid; `field` names it" } })) } },
            "/api/security-requests": {
                "get": { "operationId": "securityRequests", "summary": "Requests for additional security of a force (?force=CODE) or, for coordinators, all; ?status= filters. Keys and ratings only",
                    "parameters": [ { "name": "force", "in": "query", "required": false, "schema": { "type": "string" } }, { "name": "status", "in": "query", "required": false, "schema": { "type": "string", "enum": shield_domain::security::Status::ALL.iter().map(|s| s.key()).collect::<Vec<_>>() } } ],
                    "responses": with_errors(json!({ "200": { "description": "`requests`: id, reference, candidate_id, force, kind, status, urgent, rating, decision, created_at_ms, due_at_ms" } })) },
                "post": { "operationId": "requestSecurity", "summary": "Ask for additional security (the candidate, or ?candidate=ID for a delegate granted Report); the force's leads are told and an assess-by deadline set (same day when a linked report is P1)",
                    "parameters": [ csrf_header(), { "name": "candidate", "in": "query", "required": false, "schema": { "type": "integer" } } ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["kind", "period", "reasons"], "properties": {
                        "kind": { "type": "string", "enum": shield_domain::security::Kind::ALL.iter().map(|k| k.key()).collect::<Vec<_>>() },
                        "period": { "type": "string", "description": "The events or period concerned" }, "reasons": { "type": "string" },
                        "reports": { "type": "array", "items": { "type": "integer" }, "description": "Ids of the candidate's own reports" } } } } } },
                    "responses": with_errors(json!({ "201": { "description": "Made: id and reference" }, "400": { "description": "A field is missing or invalid; `field` names it" } })) }
            },
            "/api/security-requests/mine": { "get": { "operationId": "mySecurityRequests", "summary": "The candidate's own requests (?candidate=ID for a delegate); no rating",
                "parameters": [ { "name": "candidate", "in": "query", "required": false, "schema": { "type": "integer" } } ],
                "responses": with_errors(json!({ "200": { "description": "`requests`" } })) } },
            "/api/security-requests/consistency": { "get": { "operationId": "securityConsistency", "summary": "Coordinators: decided requests counted by rating, by force, and by rating within force",
                "responses": with_errors(json!({ "200": { "description": "by_rating, by_force, by_rating_and_force, total" } })) } },
            "/api/security-requests/{id}": { "get": { "operationId": "securityRequest", "summary": "A request with its timeline and decision; police and coordinators also get the assessment (rating, reasons, scores, recommendation, rationale)",
                "parameters": [ id_param() ],
                "responses": with_errors(json!({ "200": { "description": "The request" }, "404": { "description": "No such request" } })) } },
            "/api/security-requests/{id}/assessment": { "post": { "operationId": "assessSecurityRequest", "summary": "The force's (or a coordinator's) risk assessment: every factor 0-3, a rationale, a recommendation naming measures. The rating is derived and returned with its reasons",
                "parameters": [ id_param(), csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["scores", "recommendation", "rationale"], "properties": {
                    "scores": { "type": "object", "description": "Every factor key to a level 0-3", "properties": shield_domain::security::Factor::ALL.iter().map(|f| (f.key().to_owned(), json!({ "type": "integer", "minimum": 0, "maximum": 3, "description": f.questions() }))).collect::<serde_json::Map<_, _>>() },
                    "recommendation": { "type": "string", "enum": shield_domain::security::Outcome::ALL.iter().map(|o| o.key()).collect::<Vec<_>>() },
                    "measures": { "type": "array", "items": { "type": "string", "enum": shield_domain::security::Kind::ALL.iter().map(|k| k.key()).collect::<Vec<_>>() } },
                    "rationale": { "type": "string" } } } } } },
                "responses": with_errors(json!({ "200": { "description": "Assessed: rating and reasons" }, "400": { "description": "A field is missing, or the request is not awaiting assessment" } })) } },
            "/api/security-requests/{id}/decision": { "post": { "operationId": "decideSecurityRequest", "summary": "A coordinator's decision, never by the one who assessed it (403), with reasons for the candidate and a review date",
                "parameters": [ id_param(), csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["decision", "reasons", "review"], "properties": {
                    "decision": { "type": "string", "enum": shield_domain::security::Outcome::ALL.iter().map(|o| o.key()).collect::<Vec<_>>() },
                    "reasons": { "type": "string" }, "review": { "type": "string", "description": "YYYY-MM-DD, after today" } } } } } },
                "responses": with_errors(json!({ "200": { "description": "Decided; the candidate is told" }, "400": { "description": "A field is missing, or the request is not awaiting a decision" } })) } },
            "/api/security-requests/{id}/reconsider": { "post": { "operationId": "reconsiderSecurityRequest", "summary": "The candidate asks again with new information: back to assessment",
                "parameters": [ id_param(), csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["information"], "properties": { "information": { "type": "string" } } } } } },
                "responses": with_errors(json!({ "200": { "description": "Back to assessment" }, "400": { "description": "Not decided yet, or no information" } })) } },
            "/api/plan": { "get": { "operationId": "getPlan", "summary": "The personal security plan: each step's status (steps the service can see done are done) and the readiness score, percent of applicable steps done. `?candidate=ID` for a delegate granted View",
                "parameters": [ { "name": "candidate", "in": "query", "required": false, "schema": { "type": "integer" } } ],
                "responses": with_errors(json!({ "200": { "description": "`score`, `nudges_opt_out`, `steps`: step, title, status, automatic" } })) } },
            "/api/plan/reminders": { "post": { "operationId": "setPlanReminders", "summary": "Turn the scheduled plan reminder emails off (`reminders: false`) or on",
                "parameters": [ csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["reminders"], "properties": { "reminders": { "type": "boolean" } } } } } },
                "responses": with_errors(json!({ "200": { "description": "The plan" } })) } },
            "/api/plan/{step}": { "post": { "operationId": "setPlanStep", "summary": "Set a plan step's status (the candidate, or a delegate granted Edit)",
                "parameters": [ { "name": "step", "in": "path", "required": true, "schema": { "type": "string", "enum": shield_domain::plan::Step::ALL.iter().map(|s| s.key()).collect::<Vec<_>>() } }, csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["status"], "properties": { "status": { "type": "string", "enum": shield_domain::plan::Status::ALL.iter().map(|s| s.key()).collect::<Vec<_>>() } } } } } },
                "responses": with_errors(json!({ "200": { "description": "The plan with its new score" }, "404": { "description": "Unknown step" } })) } },
            "/api/briefings": {
                "get": { "operationId": "listBriefings", "summary": "Upcoming briefings open to the candidate (national and their forces'), with `mine`: registered, cancelled or attended",
                    "parameters": [ { "name": "candidate", "in": "query", "required": false, "schema": { "type": "integer" } } ],
                    "responses": with_errors(json!({ "200": { "description": "`briefings`" } })) },
                "post": { "operationId": "scheduleBriefing", "summary": "Schedule a briefing: for `?force=CODE` (its contacts, coordinators) or national (coordinators, no `force`)",
                    "parameters": [ csrf_header(), { "name": "force", "in": "query", "required": false, "schema": { "type": "string" } } ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["title", "starts", "ends", "capacity"], "properties": {
                        "title": { "type": "string" }, "online_url": { "type": "string" }, "venue": { "type": "string" },
                        "starts": { "type": "string", "description": "UK local time, 2026-05-07T18:00" }, "ends": { "type": "string" },
                        "capacity": { "type": "integer", "minimum": 1 }, "description": { "type": "string" },
                        "materials": { "type": "array", "items": { "type": "string", "format": "uri" } } } } } } },
                    "responses": with_errors(json!({ "201": { "description": "The briefing" }, "400": { "description": "A field is missing or invalid; `field` names it" } })) }
            },
            "/api/briefings/{id}/register": { "post": { "operationId": "registerForBriefing", "summary": "Register (capacity enforced); the candidate is emailed an iCalendar invitation and reminded the day before",
                "parameters": [ id_param(), csrf_header() ],
                "responses": with_errors(json!({ "200": { "description": "Registered" }, "409": { "description": "Full, or already started" } })) } },
            "/api/briefings/{id}/cancel": { "post": { "operationId": "cancelBriefing", "summary": "Give up one's place",
                "parameters": [ id_param(), csrf_header() ],
                "responses": with_errors(json!({ "200": { "description": "`cancelled`: whether there was a place to cancel" } })) } },
            "/api/briefings/{id}/attendance": { "post": { "operationId": "recordAttendance", "summary": "The organiser records whether a registered candidate attended (completes their plan step)",
                "parameters": [ id_param(), csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["candidate_id", "attended"], "properties": { "candidate_id": { "type": "integer" }, "attended": { "type": "boolean" } } } } } },
                "responses": with_errors(json!({ "200": { "description": "Recorded" }, "400": { "description": "Not registered" } })) } },
            "/api/briefings/{id}/registrants": { "get": { "operationId": "briefingRegistrants", "summary": "Who registered for a briefing (its organisers)",
                "parameters": [ id_param() ],
                "responses": with_errors(json!({ "200": { "description": "`registrants`" } })) } },
            "/api/outreach": { "get": { "operationId": "outreachList", "summary": "Candidates of `?force=CODE` (or all, coordinators) not enrolled, not ready (score under `threshold`, default 50) or not briefed; `q` filters by name, party or constituency",
                "parameters": [ { "name": "force", "in": "query", "required": false, "schema": { "type": "string" } },
                    { "name": "list", "in": "query", "required": false, "schema": { "type": "string", "enum": ["not_enrolled", "not_ready", "not_briefed"] } },
                    { "name": "threshold", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 100 } },
                    { "name": "q", "in": "query", "required": false, "schema": { "type": "string" } } ],
                "responses": with_errors(json!({ "200": { "description": "`candidates`" } })) } },
            "/api/outreach/remind": { "post": { "operationId": "outreachRemind", "summary": "Remind everyone on a list (not enrolled: a fresh invitation). At most 200 a force a day; nobody twice in 3 days",
                "parameters": [ csrf_header(), { "name": "force", "in": "query", "required": false, "schema": { "type": "string" } } ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["list"], "properties": { "list": { "type": "string", "enum": ["not_enrolled", "not_ready", "not_briefed"] }, "threshold": { "type": "integer" }, "q": { "type": "string" } } } } } },
                "responses": with_errors(json!({ "200": { "description": "`sent` (candidate ids), `too_recent`, `over_limit`, `no_email`" } })) } },
            "/api/check-ins": { "post": { "operationId": "startCheckin", "summary": "Start a lone-working check-in session (needs PINs set at /check-in); `?candidate=ID` for a delegate. The first check-in falls due one interval from now; a missed check-in or an overrun raises a P1 alarm",
                "parameters": [ csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["kind", "place", "interval_minutes", "hours"], "properties": { "kind": { "type": "string", "enum": shield_domain::checkin::ActivityKind::ALL.iter().map(|k| k.key()).collect::<Vec<_>>() }, "place": { "type": "string" }, "interval_minutes": { "type": "integer", "enum": shield_domain::checkin::INTERVALS_MIN }, "hours": { "type": "integer", "minimum": 1, "maximum": 16 }, "buddy": { "type": "object", "description": "Optional: someone told instead of the standing buddy for this session's alarms", "required": ["name", "email", "phone"], "properties": { "name": { "type": "string" }, "email": { "type": "string", "format": "email" }, "phone": { "type": "string" } } } } } } } },
                "responses": with_errors(json!({ "201": { "description": "Started: the session" } })) } },
            "/api/check-ins/panic": { "post": { "operationId": "panic", "summary": "The panic button: a P1 report at once, to the named contact; `session` (optional) closes that session with it",
                "parameters": [ csrf_header() ],
                "requestBody": { "required": false, "content": { "application/json": { "schema": { "type": "object", "properties": { "session": { "type": "integer" } } } } } },
                "responses": with_errors(json!({ "201": { "description": "Alarm raised: the report id and reference" } })) } },
            "/api/check-ins/{id}": { "get": { "operationId": "getCheckin", "summary": "A check-in session (a duress end reads `ended`)",
                "parameters": [ id_param() ],
                "responses": with_errors(json!({ "200": { "description": "The session" } })) } },
            "/api/check-ins/{id}/safe": { "post": { "operationId": "checkInSafe", "summary": "\"I'm safe\": the next check-in falls due one interval from now",
                "parameters": [ id_param(), csrf_header() ],
                "responses": with_errors(json!({ "200": { "description": "The session" }, "400": { "description": "The session is no longer active" } })) } },
            "/api/check-ins/{id}/end": { "post": { "operationId": "endCheckin", "summary": "End a session with the PIN. The duress PIN answers exactly the same and raises a silent P1",
                "parameters": [ id_param(), csrf_header() ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["pin"], "properties": { "pin": { "type": "string" } } } } } },
                "responses": with_errors(json!({ "200": { "description": "Ended" }, "400": { "description": "Wrong PIN (the message says how many tries are left; the fifth wrong PIN raises an alarm and the session takes no more), or the session is no longer active" } })) } }
        }
    })
}

pub(crate) async fn serve() -> Json<Value> {
    Json(document())
}
