//! The replay state machine (`template.yaml`'s `ReplayStateMachine`) and the replay Lambda's event
//! agree: this runs the definition's JSONata for sample inputs, with a stand-in for the `replay`
//! function that reads each event as a [`SegmentJob`] (unknown fields refused, every field
//! required) and answers a [`SegmentReport`], and checks the Map's segments, the jobs and the sums.
//!
//! The evaluator below covers the JSONata the definition uses and no more: `$states` paths, number
//! and string literals, array constructors with ranges, `+ - * /`, comparisons, `and`, `or`, `in`,
//! `$sum`, `$type` and `$floor`. An expression outside that fails here first: extend both together.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use projector::job::{Projection, SegmentJob, SegmentReport};
use serde_json::{Map, Value as Json, json};
use serde_yaml::Value as Yaml;
use todo_platform::manifest::FUNCTIONS;

const STATE_MACHINE: &str = "ReplayStateMachine";
/// The state machine's ARN, which `make replay-aws` (deploy/replay.py) starts executions of.
const ARN_OUTPUT: &str = "ReplayStateMachineArn";
const LAMBDA_INVOKE: &str = "!Sub arn:${AWS::Partition}:states:::lambda:invoke";
/// Most segments the state machine accepts (its input check); its history stays far below the
/// 25,000 events a standard execution may have.
const MAX_SEGMENTS: u32 = 1000;

// ------------------------------------------------------------------------------------------ tests

#[test]
fn each_segment_gets_the_replay_functions_event_and_the_reports_are_summed() {
    let machine = StateMachine::load();
    for (projection, expected) in [("todos", Projection::Todos), ("stats", Projection::Stats), ("all", Projection::All)]
    {
        for verify in [true, false] {
            for segments in [1u32, 4, 41] {
                let input = json!({"projection": projection, "verify": verify, "segments": segments});
                let (output, jobs) = machine.run(&input).unwrap_or_else(|f| panic!("{input}: {}", f.describe()));

                let expected_jobs: Vec<SegmentJob> = (0..segments)
                    .map(|segment| SegmentJob { projection: expected, verify, segments, segment })
                    .collect();
                assert_eq!(
                    jobs, expected_jobs,
                    "{input}: the Map must invoke the replay function once per segment 0..N-1"
                );

                let output = output.as_object().unwrap_or_else(|| panic!("{input}: the output {output} is no object"));
                assert_eq!(
                    output.keys().map(String::as_str).collect::<Vec<_>>(),
                    ["segments", "total"],
                    "{input}: the output must be {{segments, total}}"
                );
                let reports: Vec<SegmentReport> = serde_json::from_value(output["segments"].clone())
                    .unwrap_or_else(|e| panic!("{input}: `segments` is not a list of SegmentReport: {e}"));
                let expected_reports: Vec<SegmentReport> = expected_jobs.iter().map(report_for).collect();
                assert_eq!(
                    reports, expected_reports,
                    "{input}: `segments` must be each segment's report, in segment order"
                );

                let mut sums = Map::new();
                for field in count_fields() {
                    let sum: u64 = expected_reports.iter().map(|r| to_json(r)[&field].as_u64().expect("a count")).sum();
                    sums.insert(field, json!(sum));
                }
                assert_eq!(output["total"], Json::Object(sums), "{input}: `total` must be the sum of each count");
            }
        }
    }
}

#[test]
fn the_map_iterates_segments_zero_to_n_minus_one() {
    let machine = StateMachine::load();
    let map = machine.map_state();
    let items = map.get("Items").unwrap_or_else(|| panic!("{STATE_MACHINE}'s Map state has no Items"));
    for segments in [1u32, 2, 3, 16, 40, 41, MAX_SEGMENTS] {
        let input = json!({"projection": "all", "verify": false, "segments": segments});
        let vars = Vars { input: input.clone(), context: Json::Null, result: None };
        let evaluated = evaluate_template(items, &vars).unwrap_or_else(|e| panic!("Items for {input}: {e}"));
        let expected: Vec<Json> = (0..segments).map(|s| json!(s)).collect();
        assert_eq!(
            evaluated,
            Json::Array(expected),
            "Items for {segments} segments must be [0, ..., {}]",
            segments - 1
        );
    }
}

#[test]
fn the_sums_name_exactly_the_reports_counts() {
    let machine = StateMachine::load();
    let ends: Vec<(&String, &Json)> = machine.definition["States"]
        .as_object()
        .expect("States")
        .iter()
        .filter(|(_, state)| state["End"] == json!(true) || state["Type"] == "Succeed")
        .collect();
    assert_eq!(ends.len(), 1, "{STATE_MACHINE} must have one final state that sums the reports, has {ends:?}");
    let (name, state) = ends[0];
    let total = state["Output"]["total"].as_object().unwrap_or_else(|| panic!("{name} has no Output.total object"));
    let named: BTreeSet<String> = total.keys().cloned().collect();
    let counts: BTreeSet<String> = count_fields().into_iter().collect();
    assert_eq!(named, counts, "{name}'s Output.total must sum exactly SegmentReport's counts");
    for (field, expression) in total {
        assert_eq!(
            expression.as_str(),
            Some(format!("{{% $sum($states.input.{field}) %}}").as_str()),
            "{name}'s total.{field} must be the sum of the segments' {field}"
        );
    }
    assert_eq!(
        state["Output"]["segments"],
        json!("{% $states.input %}"),
        "{name}'s Output.segments must be the reports as the Map returned them"
    );
}

#[test]
fn a_malformed_input_fails_before_any_segment_runs() {
    let machine = StateMachine::load();
    let valid = json!({"projection": "todos", "verify": false, "segments": 8});
    let mut cases: Vec<Json> = Vec::new();
    for (field, bad) in [
        ("segments", json!(0)),
        ("segments", json!(-1)),
        ("segments", json!(MAX_SEGMENTS + 1)),
        ("segments", json!(2.5)),
        ("segments", json!("4")),
        ("segments", json!(null)),
        ("projection", json!("everything")),
        ("projection", json!("Todos")),
        ("projection", json!(1)),
        ("verify", json!("true")),
        ("verify", json!(1)),
    ] {
        let mut input = valid.clone();
        input[field] = bad;
        cases.push(input);
    }
    for field in ["segments", "projection", "verify"] {
        let mut input = valid.clone();
        input.as_object_mut().expect("an object").remove(field);
        cases.push(input);
    }
    for input in cases {
        match machine.run(&input) {
            Err(Failure::Fail { error, cause }) => {
                assert_eq!(error, "InvalidInput", "{input}");
                assert!(cause.contains("segments"), "{input}: the Fail state's Cause must say what the input must be");
            }
            Err(failure) => panic!("{input} must fail with InvalidInput before the Map, {}", failure.describe()),
            Ok((output, _)) => panic!("{input} must fail with InvalidInput before the Map, gave {output}"),
        }
    }
    let (_, jobs) = machine
        .run(&json!({"projection": "stats", "verify": true, "segments": MAX_SEGMENTS}))
        .unwrap_or_else(|f| panic!("{MAX_SEGMENTS} segments: {}", f.describe()));
    assert_eq!(jobs.len(), MAX_SEGMENTS as usize);
}

#[test]
fn the_task_invokes_the_replay_function_and_retries_lambda_faults() {
    let machine = StateMachine::load();
    let replay = FUNCTIONS.iter().find(|f| f.binary == "replay").expect("manifest.rs lists the replay function");
    let map = machine.map_state();
    let processor = &map["ItemProcessor"];
    assert_eq!(processor["ProcessorConfig"]["Mode"], "INLINE", "the Map runs inline (its results come back to Total)");
    let tasks: Vec<&Json> = processor["States"]
        .as_object()
        .expect("ItemProcessor.States")
        .values()
        .filter(|s| s["Type"] == "Task")
        .collect();
    assert_eq!(tasks.len(), 1, "the Map's iteration is one Task");
    let task = tasks[0];
    assert_eq!(machine.substitute(&task["Resource"]), LAMBDA_INVOKE, "the Task calls Lambda's Invoke integration");
    assert_eq!(
        machine.substitute(&task["Arguments"]["FunctionName"]),
        format!("!GetAtt {}.Arn", replay.logical_id),
        "the Task invokes the manifest's replay function"
    );
    let retried: BTreeSet<&str> = task["Retry"]
        .as_array()
        .expect("the Task retries")
        .iter()
        .flat_map(|r| r["ErrorEquals"].as_array().into_iter().flatten())
        .filter_map(Json::as_str)
        .collect();
    for error in [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ] {
        assert!(retried.contains(error), "the Task must retry {error} (Lambda's faults and throttling)");
    }
    for fatal in ["States.ALL", "States.TaskFailed"] {
        assert!(!retried.contains(fatal), "the Task must not retry {fatal}: a failing segment fails the run");
    }

    let resource = machine.template["Resources"][replay.logical_id]["Properties"].clone();
    assert_eq!(
        resource.get("Timeout").and_then(Yaml::as_u64),
        Some(900),
        "{} must have Lambda's longest timeout, 900 s: one invocation replays a whole segment",
        replay.logical_id
    );
    let output = machine.template["Outputs"][ARN_OUTPUT]["Value"].clone();
    assert_eq!(
        render(&output),
        format!("!Ref {STATE_MACHINE}"),
        "the stack must output {ARN_OUTPUT} for make replay-aws"
    );
}

// ------------------------------------------------------------------------------------------ the machine

#[derive(Debug)]
enum Failure {
    /// A Fail state.
    Fail { error: String, cause: String },
    /// What Step Functions would answer with States.Runtime or States.QueryEvaluationError.
    Runtime(String),
}

impl Failure {
    fn describe(&self) -> String {
        match self {
            Self::Fail { error, cause } => format!("failed with {error}: {cause}"),
            Self::Runtime(message) => format!("runtime error: {message}"),
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self::Runtime(message)
    }
}

struct StateMachine {
    template: Yaml,
    definition: Json,
    /// `${Name}` -> the rendered intrinsic it stands for.
    substitutions: BTreeMap<String, String>,
}

impl StateMachine {
    fn load() -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let template: Yaml = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("template.yaml is not YAML: {e}"));
        let resource = &template["Resources"][STATE_MACHINE];
        assert_eq!(
            resource["Type"].as_str(),
            Some("AWS::Serverless::StateMachine"),
            "template.yaml must declare {STATE_MACHINE} as an AWS::Serverless::StateMachine"
        );
        let properties = &resource["Properties"];
        let yaml_definition = properties
            .get("Definition")
            .unwrap_or_else(|| panic!("{STATE_MACHINE} must have its Definition inline in template.yaml"));
        assert!(
            !has_tags(yaml_definition),
            "{STATE_MACHINE}'s Definition holds CloudFormation intrinsics; pass them in DefinitionSubstitutions"
        );
        let definition: Json = serde_json::to_value(yaml_definition).expect("the Definition is plain JSON");
        assert_eq!(definition["QueryLanguage"], "JSONata", "{STATE_MACHINE} is written in JSONata");
        let substitutions = properties
            .get("DefinitionSubstitutions")
            .and_then(Yaml::as_mapping)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str().expect("substitution names are strings").to_owned(), render(v)))
            .collect();
        Self { template, definition, substitutions }
    }

    fn map_state(&self) -> &Json {
        let maps: Vec<&Json> =
            self.definition["States"].as_object().expect("States").values().filter(|s| s["Type"] == "Map").collect();
        assert_eq!(maps.len(), 1, "{STATE_MACHINE} must have one Map state");
        maps[0]
    }

    /// A definition string, `${Name}` replaced by what DefinitionSubstitutions gives for it.
    fn substitute(&self, value: &Json) -> String {
        let text = value.as_str().unwrap_or_else(|| panic!("{value} is not a string"));
        match text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
            Some(name) => self
                .substitutions
                .get(name)
                .unwrap_or_else(|| panic!("{STATE_MACHINE}'s DefinitionSubstitutions has no {name}"))
                .clone(),
            None => text.to_owned(),
        }
    }

    /// Runs an execution: its output and the jobs the replay function was invoked with, by segment.
    fn run(&self, input: &Json) -> Result<(Json, Vec<SegmentJob>), Failure> {
        let jobs = RefCell::new(Vec::new());
        let output = self.run_states(&self.definition, input.clone(), &jobs)?;
        let mut jobs = jobs.into_inner();
        jobs.sort_by_key(|job: &SegmentJob| job.segment);
        Ok((output, jobs))
    }

    fn run_states(&self, graph: &Json, input: Json, jobs: &RefCell<Vec<SegmentJob>>) -> Result<Json, Failure> {
        let states = graph["States"].as_object().expect("States");
        let mut name = graph["StartAt"].as_str().expect("StartAt").to_owned();
        let mut input = input;
        for _ in 0..100 {
            let state = states.get(&name).unwrap_or_else(|| panic!("no state {name}"));
            if let Some(language) = state.get("QueryLanguage") {
                assert_eq!(language, "JSONata", "{name} must not switch to another query language");
            }
            let vars = Vars { input: input.clone(), context: Json::Null, result: None };
            let output = match state["Type"].as_str().expect("Type") {
                "Choice" => {
                    let mut next = None;
                    for choice in state["Choices"].as_array().expect("Choices") {
                        match evaluate_template(&choice["Condition"], &vars)? {
                            Json::Bool(true) => {
                                next = Some(choice["Next"].as_str().expect("Next").to_owned());
                                break;
                            }
                            Json::Bool(false) => {}
                            other => return Err(format!("{name}: a Condition gave {other}, not a boolean").into()),
                        }
                    }
                    name = match next.or_else(|| state["Default"].as_str().map(str::to_owned)) {
                        Some(next) => next,
                        None => return Err(format!("{name}: no choice matched (States.NoChoiceMatched)").into()),
                    };
                    continue;
                }
                "Fail" => {
                    let text = |field: &str| state[field].as_str().unwrap_or_default().to_owned();
                    return Err(Failure::Fail { error: text("Error"), cause: text("Cause") });
                }
                "Pass" => self.output(state, &vars, input.clone())?,
                "Succeed" => input.clone(),
                "Task" => {
                    let arguments = evaluate_template(&state["Arguments"], &vars)?;
                    let resource = self.substitute(&state["Resource"]);
                    assert_eq!(resource, LAMBDA_INVOKE, "{name}: only Lambda's Invoke integration is simulated");
                    let function = self.substitute(&arguments["FunctionName"]);
                    let answer = invoke(&function, &arguments["Payload"], jobs);
                    let result = json!({"ExecutedVersion": "$LATEST", "Payload": answer, "StatusCode": 200});
                    let vars = Vars { result: Some(result.clone()), ..vars };
                    self.output(state, &vars, result)?
                }
                "Map" => {
                    let items = match state.get("Items") {
                        Some(items) => evaluate_template(items, &vars)?,
                        None => input.clone(),
                    };
                    let items = items.as_array().ok_or_else(|| format!("{name}: Items gave {items}, not an array"))?;
                    let mut results = Vec::new();
                    for (index, item) in items.iter().enumerate() {
                        let context = json!({"Map": {"Item": {"Index": index, "Value": item}}});
                        let item_vars = Vars { input: input.clone(), context, result: None };
                        let iteration_input = match state.get("ItemSelector") {
                            Some(selector) => evaluate_template(selector, &item_vars)?,
                            None => item.clone(),
                        };
                        results.push(self.run_states(&state["ItemProcessor"], iteration_input, jobs)?);
                    }
                    let result = Json::Array(results);
                    let vars = Vars { result: Some(result.clone()), ..vars };
                    self.output(state, &vars, result)?
                }
                other => panic!("{name}: state type {other} is not simulated"),
            };
            if state["End"] == json!(true) {
                return Ok(output);
            }
            name = state["Next"].as_str().unwrap_or_else(|| panic!("{name} has neither Next nor End")).to_owned();
            input = output;
        }
        panic!("the execution did not end within 100 states")
    }

    /// A state's `Output`, or what it gives by default.
    fn output(&self, state: &Json, vars: &Vars, default: Json) -> Result<Json, Failure> {
        match state.get("Output") {
            Some(output) => Ok(evaluate_template(output, vars)?),
            None => Ok(default),
        }
    }
}

/// The stand-in for the replay function: the event must be a [`SegmentJob`].
fn invoke(function: &str, payload: &Json, jobs: &RefCell<Vec<SegmentJob>>) -> Json {
    let replay = FUNCTIONS.iter().find(|f| f.binary == "replay").expect("manifest.rs lists the replay function");
    assert_eq!(
        function,
        format!("!GetAtt {}.Arn", replay.logical_id),
        "the state machine invokes only the replay function"
    );
    let job: SegmentJob = serde_json::from_value(payload.clone()).unwrap_or_else(|e| {
        panic!("the Map sends {payload}, which the replay function cannot read as a SegmentJob: {e}")
    });
    assert!(job.segment < job.segments, "{payload}: segment out of range");
    let report = report_for(&job);
    jobs.borrow_mut().push(job);
    to_json(&report)
}

/// A report whose every count differs between segments and fields, so a wrong sum shows.
fn report_for(job: &SegmentJob) -> SegmentReport {
    let s = u64::from(job.segment);
    SegmentReport {
        segment: job.segment,
        events: 1000 + 7 * s,
        todos: 100 + 3 * s,
        written: if job.verify { 0 } else { 90 + s },
        removed: s % 3,
        drift: if job.verify { s % 2 } else { 0 },
    }
}

fn to_json(report: &SegmentReport) -> Json {
    serde_json::to_value(report).expect("SegmentReport serializes")
}

/// SegmentReport's fields but `segment`: what the final state adds up.
fn count_fields() -> Vec<String> {
    let fields = to_json(&SegmentReport::default());
    let fields = fields.as_object().expect("SegmentReport is an object");
    assert!(fields.contains_key("segment"), "SegmentReport names its segment");
    fields.keys().filter(|k| *k != "segment").cloned().collect()
}

// ------------------------------------------------------------------------------------------ JSONata

struct Vars {
    input: Json,
    context: Json,
    result: Option<Json>,
}

/// A field value of a JSONata state: strings in `{% %}` are expressions, the rest is literal.
fn evaluate_template(template: &Json, vars: &Vars) -> Result<Json, String> {
    match template {
        Json::String(text) => match text.trim().strip_prefix("{%").and_then(|t| t.strip_suffix("%}")) {
            Some(expression) => {
                evaluate_expression(expression, vars)?.ok_or_else(|| format!("`{expression}` gave nothing (undefined)"))
            }
            None => Ok(template.clone()),
        },
        Json::Array(items) => {
            items.iter().map(|i| evaluate_template(i, vars)).collect::<Result<_, _>>().map(Json::Array)
        }
        Json::Object(fields) => fields
            .iter()
            .map(|(k, v)| Ok((k.clone(), evaluate_template(v, vars)?)))
            .collect::<Result<Map<_, _>, String>>()
            .map(Json::Object),
        _ => Ok(template.clone()),
    }
}

fn evaluate_expression(expression: &str, vars: &Vars) -> Result<Option<Json>, String> {
    let tokens = tokenize(expression)?;
    let mut parser = Parser { tokens, at: 0 };
    let ast = parser.expression(0)?;
    if parser.at != parser.tokens.len() {
        return Err(format!("`{expression}`: unexpected {:?}", parser.tokens[parser.at]));
    }
    let mut states = Map::new();
    states.insert("input".into(), vars.input.clone());
    states.insert("context".into(), vars.context.clone());
    if let Some(result) = &vars.result {
        states.insert("result".into(), result.clone());
    }
    evaluate(&ast, &Json::Object(states)).map_err(|e| format!("`{expression}`: {e}"))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Text(String),
    Name(String),
    Variable(String),
    Symbol(&'static str),
}

const SYMBOLS: &[&str] = &["..", "!=", "<=", ">=", ".", "[", "]", "(", ")", ",", "=", "<", ">", "+", "-", "*", "/"];

fn tokenize(source: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            // A dot followed by another dot is a range, not a decimal point.
            while i < chars.len() && (chars[i].is_ascii_digit() || (chars[i] == '.' && chars.get(i + 1) != Some(&'.')))
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            tokens.push(Token::Number(text.parse().map_err(|_| format!("bad number {text}"))?));
        } else if c == '\'' || c == '"' {
            let end = chars[i + 1..].iter().position(|&d| d == c).ok_or("unterminated string")? + i + 1;
            tokens.push(Token::Text(chars[i + 1..end].iter().collect()));
            i = end + 1;
        } else if c == '$' || c.is_alphabetic() || c == '_' {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push(match word.strip_prefix('$') {
                Some(name) => Token::Variable(name.to_owned()),
                None => Token::Name(word),
            });
        } else {
            let rest: String = chars[i..].iter().take(2).collect();
            let symbol = SYMBOLS.iter().find(|s| rest.starts_with(**s)).ok_or_else(|| format!("unsupported `{c}`"))?;
            tokens.push(Token::Symbol(symbol));
            i += symbol.len();
        }
    }
    Ok(tokens)
}

#[derive(Debug)]
enum Ast {
    Number(f64),
    Text(String),
    Variable(String),
    Name(String),
    Path(Box<Ast>, String),
    Call(String, Vec<Ast>),
    Array(Vec<Ast>),
    Range(Box<Ast>, Box<Ast>),
    Binary(String, Box<Ast>, Box<Ast>),
    Negate(Box<Ast>),
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

/// JSONata's binding powers for the operators supported here.
fn binding_power(token: &Token) -> u8 {
    match token {
        Token::Symbol(".") => 75,
        Token::Symbol("*" | "/") => 60,
        Token::Symbol("+" | "-") => 50,
        Token::Symbol("=" | "!=" | "<" | "<=" | ">" | ">=") => 40,
        Token::Name(word) if word == "in" => 40,
        Token::Name(word) if word == "and" => 30,
        Token::Name(word) if word == "or" => 25,
        Token::Symbol("..") => 20,
        _ => 0,
    }
}

impl Parser {
    fn next(&mut self) -> Result<Token, String> {
        let token = self.tokens.get(self.at).cloned().ok_or("unexpected end")?;
        self.at += 1;
        Ok(token)
    }

    fn expect(&mut self, symbol: &str) -> Result<(), String> {
        match self.next()? {
            Token::Symbol(s) if s == symbol => Ok(()),
            other => Err(format!("expected `{symbol}`, found {other:?}")),
        }
    }

    fn peek_is(&self, symbol: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Symbol(s)) if *s == symbol)
    }

    fn expression(&mut self, right_binding: u8) -> Result<Ast, String> {
        let mut left = match self.next()? {
            Token::Number(n) => Ast::Number(n),
            Token::Text(t) => Ast::Text(t),
            Token::Name(n) => Ast::Name(n),
            Token::Variable(v) if self.peek_is("(") => {
                self.at += 1;
                let mut arguments = Vec::new();
                while !self.peek_is(")") {
                    arguments.push(self.expression(0)?);
                    if !self.peek_is(")") {
                        self.expect(",")?;
                    }
                }
                self.expect(")")?;
                Ast::Call(v, arguments)
            }
            Token::Variable(v) => Ast::Variable(v),
            Token::Symbol("(") => {
                let inner = self.expression(0)?;
                self.expect(")")?;
                inner
            }
            Token::Symbol("[") => {
                let mut items = Vec::new();
                while !self.peek_is("]") {
                    items.push(self.expression(0)?);
                    if !self.peek_is("]") {
                        self.expect(",")?;
                    }
                }
                self.expect("]")?;
                Ast::Array(items)
            }
            Token::Symbol("-") => Ast::Negate(Box::new(self.expression(70)?)),
            other => return Err(format!("unexpected {other:?}")),
        };
        while let Some(token) = self.tokens.get(self.at).cloned() {
            let power = binding_power(&token);
            if power <= right_binding {
                break;
            }
            self.at += 1;
            left = match token {
                Token::Symbol(".") => match self.next()? {
                    Token::Name(field) => Ast::Path(Box::new(left), field),
                    other => return Err(format!("only field steps are supported after `.`, found {other:?}")),
                },
                Token::Symbol("..") => Ast::Range(Box::new(left), Box::new(self.expression(power)?)),
                Token::Symbol(op) => Ast::Binary(op.to_owned(), Box::new(left), Box::new(self.expression(power)?)),
                Token::Name(op) => Ast::Binary(op, Box::new(left), Box::new(self.expression(power)?)),
                other => return Err(format!("unexpected {other:?}")),
            };
        }
        Ok(left)
    }
}

/// `None` is JSONata's undefined.
fn evaluate(ast: &Ast, states: &Json) -> Result<Option<Json>, String> {
    Ok(match ast {
        Ast::Number(n) => Some(number(*n)),
        Ast::Text(t) => Some(Json::String(t.clone())),
        Ast::Variable(name) if name == "states" => Some(states.clone()),
        Ast::Variable(name) => return Err(format!("unknown variable ${name}")),
        Ast::Name(name) => return Err(format!("a bare field `{name}` (only $states paths are supported)")),
        Ast::Path(left, field) => evaluate(left, states)?.and_then(|value| step(&value, field)),
        Ast::Call(function, arguments) => {
            let arguments: Vec<Option<Json>> =
                arguments.iter().map(|a| evaluate(a, states)).collect::<Result<_, _>>()?;
            call(function, &arguments)?
        }
        Ast::Array(items) => {
            let mut array = Vec::new();
            for item in items {
                match item {
                    Ast::Range(from, to) => {
                        let bound = |ast: &Ast| -> Result<Option<i64>, String> {
                            match evaluate(ast, states)? {
                                None => Ok(None),
                                Some(value) => match value.as_f64() {
                                    Some(n) if n.fract() == 0.0 => Ok(Some(n as i64)),
                                    _ => Err(format!("a range bound must be an integer, is {value}")),
                                },
                            }
                        };
                        if let (Some(from), Some(to)) = (bound(from)?, bound(to)?) {
                            array.extend((from..=to).map(|n| json!(n)));
                        }
                    }
                    _ => array.extend(evaluate(item, states)?),
                }
            }
            Some(Json::Array(array))
        }
        Ast::Range(..) => return Err("a range outside an array constructor".into()),
        Ast::Negate(inner) => match evaluate(inner, states)? {
            None => None,
            Some(value) => Some(number(-value.as_f64().ok_or_else(|| format!("cannot negate {value}"))?)),
        },
        Ast::Binary(op, left, right) if op == "and" || op == "or" => {
            // Short-circuit, as JSONata does: the right side is not evaluated when the left decides.
            let left = truthy(&evaluate(left, states)?);
            let decided = if op == "and" { !left } else { left };
            Some(Json::Bool(if decided { left } else { truthy(&evaluate(right, states)?) }))
        }
        Ast::Binary(op, left, right) => {
            let (left, right) = (evaluate(left, states)?, evaluate(right, states)?);
            binary(op, left, right)?
        }
    })
}

/// One path step: a field of an object, or of each object of an array (flattened; one value is
/// itself, none is undefined).
fn step(value: &Json, field: &str) -> Option<Json> {
    match value {
        Json::Object(fields) => fields.get(field).cloned(),
        Json::Array(items) => {
            let mut found = Vec::new();
            for item in items {
                match step(item, field) {
                    Some(Json::Array(inner)) => found.extend(inner),
                    Some(value) => found.push(value),
                    None => {}
                }
            }
            match found.len() {
                0 => None,
                1 => found.pop(),
                _ => Some(Json::Array(found)),
            }
        }
        _ => None,
    }
}

fn call(function: &str, arguments: &[Option<Json>]) -> Result<Option<Json>, String> {
    let [argument] = arguments else { return Err(format!("${function} takes one argument here")) };
    let Some(argument) = argument else { return Ok(None) };
    Ok(Some(match function {
        "sum" => {
            let values = match argument {
                Json::Array(items) => items.clone(),
                single => vec![single.clone()],
            };
            let mut sum = 0.0;
            for value in values {
                sum += value.as_f64().ok_or_else(|| format!("$sum of a non-number {value}"))?;
            }
            number(sum)
        }
        "type" => json!(match argument {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }),
        "floor" => number(argument.as_f64().ok_or_else(|| format!("$floor of a non-number {argument}"))?.floor()),
        other => return Err(format!("${other} is not supported here")),
    }))
}

fn binary(op: &str, left: Option<Json>, right: Option<Json>) -> Result<Option<Json>, String> {
    if op == "in" {
        let (Some(left), Some(right)) = (left, right) else { return Ok(Some(Json::Bool(false))) };
        let found = match &right {
            Json::Array(items) => items.iter().any(|item| same(&left, item)),
            single => same(&left, single),
        };
        return Ok(Some(Json::Bool(found)));
    }
    let (Some(left), Some(right)) = (left, right) else {
        // Comparisons with undefined are false; arithmetic with it is undefined.
        return Ok(matches!(op, "=" | "!=" | "<" | "<=" | ">" | ">=").then_some(Json::Bool(false)));
    };
    Ok(Some(match op {
        "=" => Json::Bool(same(&left, &right)),
        "!=" => Json::Bool(!same(&left, &right)),
        "<" | "<=" | ">" | ">=" => {
            let ordering = match (&left, &right) {
                (Json::Number(a), Json::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                (Json::String(a), Json::String(b)) => Some(a.cmp(b)),
                _ => return Err(format!("cannot compare {left} {op} {right} (JSONata error T2009/T2010)")),
            }
            .ok_or("incomparable numbers")?;
            Json::Bool(match op {
                "<" => ordering.is_lt(),
                "<=" => ordering.is_le(),
                ">" => ordering.is_gt(),
                _ => ordering.is_ge(),
            })
        }
        "+" | "-" | "*" | "/" => {
            let (Some(a), Some(b)) = (left.as_f64(), right.as_f64()) else {
                return Err(format!("arithmetic on a non-number: {left} {op} {right} (JSONata error T2001/T2002)"));
            };
            number(match op {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                _ => a / b,
            })
        }
        other => return Err(format!("operator {other} is not supported here")),
    }))
}

/// JSONata's equality: numbers by value (4 = 4.0), the rest structurally.
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// JSONata's `$boolean` for the values a condition meets.
fn truthy(value: &Option<Json>) -> bool {
    match value {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(Json::Number(n)) => n.as_f64() != Some(0.0),
        Some(Json::String(s)) => !s.is_empty(),
        Some(Json::Array(items)) => items.iter().any(|i| truthy(&Some(i.clone()))),
        Some(Json::Object(fields)) => !fields.is_empty(),
    }
}

/// A JSON number the way JSONata writes one: integers without a fraction.
fn number(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 { json!(n as i64) } else { json!(n) }
}

// ------------------------------------------------------------------------------------------ YAML

fn has_tags(value: &Yaml) -> bool {
    match value {
        Yaml::Tagged(_) => true,
        Yaml::Sequence(items) => items.iter().any(has_tags),
        Yaml::Mapping(fields) => fields.iter().any(|(k, v)| has_tags(k) || has_tags(v)),
        _ => false,
    }
}

/// An intrinsic in one spelling, short or long form: `!GetAtt ReplayFunction.Arn`, `!Sub ...`.
fn render(value: &Yaml) -> String {
    match value {
        Yaml::String(s) => s.clone(),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let argument = match (name, &tagged.value) {
                ("GetAtt", Yaml::Sequence(parts)) => parts.iter().map(render).collect::<Vec<_>>().join("."),
                (_, argument) => render(argument),
            };
            format!("!{name} {argument}")
        }
        Yaml::Mapping(fields) if fields.len() == 1 => {
            let (key, inner) = fields.iter().next().expect("one entry");
            match key.as_str() {
                Some("Ref") => format!("!Ref {}", render(inner)),
                Some(name) if name.starts_with("Fn::") => {
                    render(&Yaml::Tagged(Box::new(serde_yaml::value::TaggedValue {
                        tag: serde_yaml::value::Tag::new(&name[4..]),
                        value: inner.clone(),
                    })))
                }
                _ => serde_yaml::to_string(value).unwrap_or_default().trim().to_owned(),
            }
        }
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_owned(),
    }
}
