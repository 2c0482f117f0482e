//! API Gateway's resource matching over the manifest's routes (`/item/{id}/done`, ...).

use std::collections::BTreeMap;

use todo_platform::manifest::{FUNCTIONS, Function};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(&'static str),
    Parameter(&'static str),
}

/// One method on one resource, served by one function.
#[derive(Debug, Clone)]
pub struct ApiRoute {
    pub binary: &'static str,
    pub method: &'static str,
    /// In API Gateway's notation, e.g. `/item/{id}`.
    pub resource: &'static str,
    segments: Vec<Segment>,
}

/// The outcome of matching a request path and method.
#[derive(Debug)]
pub enum RouteMatch<'a> {
    Found {
        route: &'a ApiRoute,
        path_parameters: BTreeMap<String, String>,
    },
    /// The resource exists but not with this method.
    MethodNotAllowed {
        resource: &'static str,
        allowed: Vec<&'static str>,
    },
    NotFound,
}

#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: Vec<ApiRoute>,
}

impl RouteTable {
    /// Every function of the manifest that has an HTTP route.
    pub fn from_manifest() -> Self {
        Self::from_functions(FUNCTIONS)
    }

    pub fn from_functions(functions: &[Function]) -> Self {
        let routes = functions
            .iter()
            .filter_map(|function| {
                let route = function.route?;
                Some(ApiRoute {
                    binary: function.binary,
                    method: route.method,
                    resource: route.path,
                    segments: parse_resource(route.path),
                })
            })
            .collect();
        Self { routes }
    }

    pub fn routes(&self) -> &[ApiRoute] {
        &self.routes
    }

    /// The resource `path` (without the stage) belongs to, or `None`.
    ///
    /// As in API Gateway's resource tree, a literal segment wins over a `{parameter}` at the same
    /// depth.
    fn resource_of(&self, path: &str) -> Option<(&'static str, BTreeMap<String, String>)> {
        let segments = split_path(path)?;
        self.routes
            .iter()
            .filter_map(|route| {
                let parameters = match_segments(&route.segments, &segments)?;
                let specificity: Vec<bool> =
                    route.segments.iter().map(|segment| matches!(segment, Segment::Parameter(_))).collect();
                Some((specificity, route.resource, parameters))
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, resource, parameters)| (resource, parameters))
    }

    /// Whether `path` names a resource of the API (for preflights).
    pub fn has_resource(&self, path: &str) -> bool {
        self.resource_of(path).is_some()
    }

    pub fn resolve(&self, method: &str, path: &str) -> RouteMatch<'_> {
        let Some((resource, path_parameters)) = self.resource_of(path) else {
            return RouteMatch::NotFound;
        };
        let on_resource = || self.routes.iter().filter(move |route| route.resource == resource);
        match on_resource().find(|route| route.method == method) {
            Some(route) => RouteMatch::Found { route, path_parameters },
            None => {
                RouteMatch::MethodNotAllowed { resource, allowed: on_resource().map(|route| route.method).collect() }
            }
        }
    }
}

fn parse_resource(resource: &'static str) -> Vec<Segment> {
    resource
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| match segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
            Some(name) => Segment::Parameter(name),
            None => Segment::Literal(segment),
        })
        .collect()
}

/// The decoded segments of a request path; `None` for an empty segment (`//`, a trailing `/`)
/// or bad percent-encoding, which no resource matches.
fn split_path(path: &str) -> Option<Vec<String>> {
    let trimmed = path.strip_prefix('/')?;
    if trimmed.is_empty() {
        return Some(Vec::new());
    }
    trimmed
        .split('/')
        .map(|segment| {
            if segment.is_empty() {
                return None;
            }
            percent_decode(segment)
        })
        .collect()
}

fn match_segments(template: &[Segment], segments: &[String]) -> Option<BTreeMap<String, String>> {
    if template.len() != segments.len() {
        return None;
    }
    let mut parameters = BTreeMap::new();
    for (expected, actual) in template.iter().zip(segments) {
        match expected {
            Segment::Literal(literal) if literal == actual => {}
            Segment::Literal(_) => return None,
            Segment::Parameter(name) => {
                parameters.insert((*name).to_owned(), actual.clone());
            }
        }
    }
    Some(parameters)
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = segment.get(index + 1..index + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(table: &RouteTable, method: &str, path: &str) -> Option<(&'static str, BTreeMap<String, String>)> {
        match table.resolve(method, path) {
            RouteMatch::Found { route, path_parameters } => Some((route.binary, path_parameters)),
            _ => None,
        }
    }

    #[test]
    fn every_manifest_route_resolves_to_its_function() {
        let table = RouteTable::from_manifest();
        let id = "0190b6a4-7c4e-7a3b-8c1d-2e3f4a5b6c7d";
        let id_param = BTreeMap::from([("id".to_owned(), id.to_owned())]);
        assert_eq!(found(&table, "POST", "/item"), Some(("create-todo", BTreeMap::new())));
        assert_eq!(found(&table, "GET", "/item"), Some(("list-todos", BTreeMap::new())));
        assert_eq!(found(&table, "GET", &format!("/item/{id}")), Some(("get-todo", id_param.clone())));
        assert_eq!(found(&table, "PUT", &format!("/item/{id}")), Some(("update-todo", id_param.clone())));
        assert_eq!(found(&table, "DELETE", &format!("/item/{id}")), Some(("delete-todo", id_param.clone())));
        assert_eq!(found(&table, "POST", &format!("/item/{id}/done")), Some(("complete-todo", id_param.clone())));
        assert_eq!(found(&table, "GET", &format!("/item/{id}/history")), Some(("get-todo-history", id_param)));
        assert_eq!(found(&table, "GET", "/history"), Some(("get-history", BTreeMap::new())));
        assert_eq!(found(&table, "GET", "/history/digest"), Some(("get-history-digest", BTreeMap::new())));
        assert_eq!(found(&table, "GET", "/export"), Some(("export-data", BTreeMap::new())));
        assert_eq!(found(&table, "GET", "/stats"), Some(("get-stats", BTreeMap::new())));
    }

    #[test]
    fn unknown_paths_and_methods_are_told_apart() {
        let table = RouteTable::from_manifest();
        assert!(matches!(table.resolve("GET", "/nothing"), RouteMatch::NotFound));
        assert!(matches!(table.resolve("GET", "/item/"), RouteMatch::NotFound));
        assert!(matches!(table.resolve("GET", "/item/a/b/c"), RouteMatch::NotFound));
        assert!(matches!(table.resolve("GET", "/"), RouteMatch::NotFound));
        match table.resolve("PATCH", "/item/x") {
            RouteMatch::MethodNotAllowed { resource, mut allowed } => {
                allowed.sort();
                assert_eq!(resource, "/item/{id}");
                assert_eq!(allowed, vec!["DELETE", "GET", "PUT"]);
            }
            other => panic!("expected 405, got {other:?}"),
        }
    }

    #[test]
    fn path_parameters_are_decoded() {
        let table = RouteTable::from_manifest();
        let (_, parameters) = found(&table, "GET", "/item/a%20b").unwrap();
        assert_eq!(parameters["id"], "a b");
        assert!(matches!(table.resolve("GET", "/item/%zz"), RouteMatch::NotFound));
    }
}
