//! `/openapi.json` as a machine reads it: generated clients and fuzzers take the document
//! at its word, so it must be well-formed OpenAPI 3.1 with every reference inside it, its
//! path parameters must be exactly the path templates' placeholders, and every query
//! parameter a handler reads must be declared `in: query`. The last is checked against
//! the gateway's code itself (each documented handler's `Query<T>` and the fields of `T`),
//! not against a list kept here, so a new handler or field is covered without editing
//! this file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::Value;
use syn::punctuated::Punctuated;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const PATH_ITEM_FIELDS: [&str; 4] = ["summary", "description", "servers", "parameters"];
const LOCATIONS: [&str; 4] = ["query", "header", "path", "cookie"];

/// The document exactly as the gateway serves it.
async fn served_document() -> (TestPlatform, Value) {
    let platform = TestPlatform::start().await;
    let response = platform
        .http
        .get(format!("{}/openapi.json", platform.gateway))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")),
        "served as JSON"
    );
    let text = response.text().await.expect("a body");
    let doc: Value = serde_json::from_str(&text).expect("the document parses as JSON");
    (platform, doc)
}

/// A parameter or response as declared, following a `$ref` into the document (null when
/// it leads nowhere).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| doc.pointer(pointer))
            .unwrap_or(&Value::Null),
        None => value,
    }
}

/// One operation of the document.
struct Operation<'a> {
    template: String,
    method: &'static str,
    op: &'a Value,
    /// What applies to it: the path item's and the operation's own, the latter
    /// overriding by name and location.
    parameters: Vec<&'a Value>,
}

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut found = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths is an object") {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let mut parameters: BTreeMap<(String, String), &Value> = BTreeMap::new();
            for declared in [&item["parameters"], &op["parameters"]] {
                for p in declared.as_array().into_iter().flatten() {
                    let p = resolve(doc, p);
                    let key = (
                        p["name"].as_str().unwrap_or_default().to_owned(),
                        p["in"].as_str().unwrap_or_default().to_owned(),
                    );
                    parameters.insert(key, p);
                }
            }
            found.push(Operation {
                template: template.clone(),
                method,
                op,
                parameters: parameters.into_values().collect(),
            });
        }
    }
    found
}

/// The `{name}` placeholders of a path template.
fn placeholders(template: &str) -> BTreeSet<String> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

/// Every `$ref` anywhere in `value`, with the JSON pointer of where it stands.
fn references(value: &Value, at: String, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref"
                    && let Some(reference) = child.as_str()
                {
                    found.push((at.clone(), reference.to_owned()));
                }
                references(child, format!("{at}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                references(child, format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_served_document_is_openapi_3_1_with_valid_parameters_and_every_ref_inside_it() {
    let (platform, doc) = served_document().await;
    let mut failures = Vec::new();

    let version = doc["openapi"].as_str().unwrap_or_default();
    let numbers: Vec<&str> = version.split('.').collect();
    if !(numbers.len() == 3 && numbers[..2] == ["3", "1"] && numbers[2].parse::<u32>().is_ok()) {
        failures.push(format!("openapi is {version:?}, not 3.1.x"));
    }
    for field in ["title", "version"] {
        if !doc["info"][field].is_string() {
            failures.push(format!("info.{field} is missing"));
        }
    }
    for (name, _) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        // OpenAPI's rule for component names; generators use them as type names.
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
        {
            failures.push(format!("component schema name {name:?}"));
        }
    }

    let mut tags = BTreeSet::new();
    for tag in doc["tags"].as_array().into_iter().flatten() {
        let name = tag["name"].as_str().unwrap_or_default();
        if !tags.insert(name) {
            failures.push(format!("tag {name:?} is declared twice"));
        }
    }
    let mut operation_ids = BTreeMap::new();
    for (template, item) in doc["paths"].as_object().expect("paths is an object") {
        if !template.starts_with('/') {
            failures.push(format!("path {template:?} does not start with /"));
        }
        for key in item.as_object().expect("a path item is an object").keys() {
            if !METHODS.contains(&key.as_str()) && !PATH_ITEM_FIELDS.contains(&key.as_str()) {
                failures.push(format!("{template}: unknown path item field {key:?}"));
            }
        }
    }
    let operations = operations(&doc);
    assert!(
        operations.len() > 50,
        "only {} operations",
        operations.len()
    );
    for Operation {
        template,
        method,
        op,
        ..
    } in &operations
    {
        let name = format!("{} {template}", method.to_uppercase());
        if let Some(id) = op["operationId"].as_str()
            && let Some(other) = operation_ids.insert(id.to_owned(), name.clone())
        {
            failures.push(format!("{name}: operationId {id} is also {other}'s"));
        }
        match op["responses"].as_object() {
            Some(responses) if !responses.is_empty() => {
                for (status, response) in responses {
                    let response = resolve(&doc, response);
                    if !response["description"].is_string() {
                        failures.push(format!("{name}: response {status} has no description"));
                    }
                }
            }
            _ => failures.push(format!("{name}: no responses")),
        }
        let mut seen = BTreeSet::new();
        for p in op["parameters"].as_array().into_iter().flatten() {
            let p = resolve(&doc, p);
            if p.is_null() {
                failures.push(format!("{name}: a parameter's $ref does not resolve"));
                continue;
            }
            let (Some(pname), Some(location)) = (p["name"].as_str(), p["in"].as_str()) else {
                failures.push(format!("{name}: a parameter without name or in: {p}"));
                continue;
            };
            if !LOCATIONS.contains(&location) {
                failures.push(format!("{name}: parameter {pname} is in {location:?}"));
            }
            if !seen.insert((pname, location)) {
                failures.push(format!("{name}: parameter {pname} in {location} twice"));
            }
            if p.get("schema").is_some() == p.get("content").is_some() {
                failures.push(format!(
                    "{name}: parameter {pname} needs exactly one of schema and content"
                ));
            }
            if p.get("required").is_some_and(|r| !r.is_boolean()) {
                failures.push(format!(
                    "{name}: parameter {pname}'s required is not a bool"
                ));
            }
        }
    }

    let mut refs = Vec::new();
    references(&doc, String::new(), &mut refs);
    assert!(!refs.is_empty(), "the document uses no $ref at all");
    for (at, reference) in &refs {
        // Local only: a client generated without network must find every one.
        match reference.strip_prefix('#') {
            Some(pointer) if doc.pointer(pointer).is_some() => {}
            _ => failures.push(format!("{at}: $ref {reference} does not resolve")),
        }
    }
    eprintln!(
        "{} operations, {} references checked",
        operations.len(),
        refs.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    platform.stop().await;
}

#[tokio::test]
async fn path_parameters_are_exactly_the_placeholders_of_their_path_and_required() {
    let (platform, doc) = served_document().await;
    let mut failures = Vec::new();
    for Operation {
        template,
        method,
        parameters,
        ..
    } in operations(&doc)
    {
        let name = format!("{} {template}", method.to_uppercase());
        let expected = placeholders(&template);
        let declared: BTreeSet<String> = parameters
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        for missing in expected.difference(&declared) {
            failures.push(format!("{name}: {{{missing}}} is not declared in: path"));
        }
        for stray in declared.difference(&expected) {
            failures.push(format!(
                "{name}: {stray} is declared in: path but is not in the path"
            ));
        }
        for p in parameters.iter().filter(|p| p["in"] == "path") {
            if p["required"] != true {
                failures.push(format!("{name}: path parameter {} is optional", p["name"]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    platform.stop().await;
}

/// A query parameter a handler reads: a field of the struct in its `Query<T>`.
struct QueryField {
    name: String,
    required: bool,
}

/// A documented handler (it carries `#[utoipa::path]`) and the query fields it reads.
struct Handler {
    function: String,
    method: String,
    template: String,
    reads: Vec<QueryField>,
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the gateway's sources") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn items_of(items: &[syn::Item], structs: &mut Vec<syn::ItemStruct>, fns: &mut Vec<syn::ItemFn>) {
    for item in items {
        match item {
            syn::Item::Struct(s) => structs.push(s.clone()),
            syn::Item::Fn(f) => fns.push(f.clone()),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    items_of(inner, structs, fns);
                }
            }
            _ => {}
        }
    }
}

/// The name a type path ends in, and its first generic argument's, e.g. `Query<Q>`.
fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last(),
        _ => None,
    }
}

fn generic_argument(segment: &syn::PathSegment) -> Option<&syn::Type> {
    match &segment.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// What serde reads from the query string for this struct: its fields by their serde
/// names, required unless `Option` or `#[serde(default)]`.
fn query_fields(item: &syn::ItemStruct) -> Vec<QueryField> {
    let serde = |attrs: &[syn::Attribute], field: bool| {
        let (mut rename, mut default) = (None, false);
        for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("default") {
                    default = true;
                    if meta.input.peek(syn::Token![=]) {
                        meta.value()?.parse::<syn::LitStr>()?;
                    }
                } else if field && meta.path.is_ident("rename") {
                    rename = Some(meta.value()?.parse::<syn::LitStr>()?.value());
                } else {
                    panic!(
                        "{}: teach this test what #[serde({})] does to a query string",
                        item.ident,
                        meta.path
                            .get_ident()
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    );
                }
                Ok(())
            })
            .expect("a serde attribute");
        }
        (rename, default)
    };
    let (_, all_default) = serde(&item.attrs, false);
    item.fields
        .iter()
        .map(|field| {
            let ident = field
                .ident
                .as_ref()
                .expect("a query struct has named fields");
            let (rename, default) = serde(&field.attrs, true);
            let optional = last_segment(&field.ty).is_some_and(|s| s.ident == "Option");
            QueryField {
                name: rename
                    .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned()),
                required: !(optional || default || all_default),
            }
        })
        .collect()
}

/// Every documented handler in the gateway's sources, with what it reads from the query.
fn documented_handlers() -> Vec<Handler> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../gateway/src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    let mut structs_by_file = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("a source file");
        let parsed = syn::parse_file(&source).expect("the gateway's source parses");
        let (mut structs, mut fns) = (Vec::new(), Vec::new());
        items_of(&parsed.items, &mut structs, &mut fns);
        structs_by_file.push((file.clone(), structs, fns));
    }
    let mut handlers = Vec::new();
    for (file, structs, fns) in &structs_by_file {
        for function in fns {
            let Some(attr) = function.attrs.iter().find(|a| {
                let segments: Vec<String> = a
                    .path()
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                segments == ["utoipa", "path"]
            }) else {
                continue;
            };
            let name = function.sig.ident.to_string();
            let args = attr
                .parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
                .unwrap_or_else(|e| panic!("{name}'s #[utoipa::path]: {e}"));
            let method = args
                .iter()
                .find_map(|m| match m {
                    syn::Meta::Path(p) => p.get_ident().map(ToString::to_string),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{name} names no method"));
            let template = args
                .iter()
                .find_map(|m| match m {
                    syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => Some(s.value()),
                        _ => None,
                    },
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{name} names no path"));
            let mut reads = Vec::new();
            for input in &function.sig.inputs {
                let syn::FnArg::Typed(arg) = input else {
                    continue;
                };
                let Some(extractor) = last_segment(&arg.ty) else {
                    continue;
                };
                assert!(
                    extractor.ident != "RawQuery",
                    "{name} reads the raw query string: declare what it reads with a Query<T>"
                );
                if extractor.ident != "Query" {
                    continue;
                }
                let query = generic_argument(extractor)
                    .and_then(last_segment)
                    .map(|s| s.ident.to_string())
                    .unwrap_or_else(|| panic!("{name}: Query of what?"));
                // The struct beside the handler, else the only one of that name.
                let candidates: Vec<&syn::ItemStruct> = structs
                    .iter()
                    .filter(|s| s.ident == query)
                    .chain(
                        structs_by_file
                            .iter()
                            .filter(|(other, _, _)| other != file)
                            .flat_map(|(_, s, _)| s)
                            .filter(|s| s.ident == query),
                    )
                    .collect();
                let item = candidates.first().unwrap_or_else(|| {
                    panic!("{name} reads Query<{query}>, not a struct of the gateway's")
                });
                assert!(
                    structs.iter().any(|s| s.ident == query) || candidates.len() == 1,
                    "{name}: which {query}?"
                );
                reads.extend(query_fields(item));
            }
            handlers.push(Handler {
                function: name,
                method,
                template,
                reads,
            });
        }
    }
    handlers
}

#[tokio::test]
async fn every_query_parameter_a_handler_reads_is_declared_in_query() {
    let handlers = documented_handlers();
    let readers = handlers.iter().filter(|h| !h.reads.is_empty()).count();
    assert!(
        readers > 0,
        "no handler reads a query string: the parser is lost"
    );
    let (platform, doc) = served_document().await;
    let mut failures = Vec::new();
    for handler in &handlers {
        let name = format!(
            "{} ({} {})",
            handler.function,
            handler.method.to_uppercase(),
            handler.template
        );
        let Some(op) = doc["paths"][&handler.template].get(&handler.method) else {
            failures.push(format!("{name} is not in the served document"));
            continue;
        };
        let parameters: Vec<&Value> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(&doc, p))
            .collect();
        let in_query: BTreeMap<&str, bool> = parameters
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or_default(),
                    p["required"] == true,
                )
            })
            .collect();
        for field in &handler.reads {
            match in_query.get(field.name.as_str()) {
                Some(&required) if required == field.required => {}
                Some(&required) => failures.push(format!(
                    "{name}: query parameter {} is declared required: {required}, \
                     but the handler {} it",
                    field.name,
                    if field.required {
                        "requires"
                    } else {
                        "does not require"
                    }
                )),
                None => {
                    let elsewhere = parameters
                        .iter()
                        .find(|p| p["name"] == field.name.as_str())
                        .map(|p| format!(" (declared in: {})", p["in"]))
                        .unwrap_or_default();
                    failures.push(format!(
                        "{name}: reads {} from the query string, not declared in: query{elsewhere}",
                        field.name
                    ));
                }
            }
        }
        for declared in in_query.keys() {
            if !handler.reads.iter().any(|f| f.name == *declared) {
                failures.push(format!(
                    "{name}: declares query parameter {declared} that it never reads"
                ));
            }
        }
    }
    eprintln!(
        "{} documented handlers, {readers} of them read {} query parameters",
        handlers.len(),
        handlers.iter().map(|h| h.reads.len()).sum::<usize>()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    platform.stop().await;
}
