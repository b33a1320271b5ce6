import Hummingbird
import Logging
import NIOHTTP1

/// The outermost middleware: times every request into the latency histogram (by route and status), and turns
/// errors into JSON error bodies, with 405 and `Allow` for a known path asked with the wrong method.
struct ServerMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    /// The methods each route answers.
    let routes: [String: [HTTPRequest.Method]]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as ErrorBody {
            response = error.response
        } catch let error as any HTTPResponseError {
            response = answer(error.status, request)
        } catch let error as HTTPParserError where error == .invalidEOFState {
            // The client went away in the middle of its request: not the server's failure. Counted as 499, the
            // status proxies use for a request the client closed; nobody is left to read the answer.
            context.logger.debug("the client closed the connection before its request was complete")
            metrics.requestFinished(
                route: routeLabel(request.uri.path, in: routes),
                method: request.method.rawValue, status: 499, duration: ContinuousClock.now - start)
            throw error
        } catch let error as HTTPParserError {
            // A body the parser refused (a bad chunk size, say): the client's mistake.
            response =
                ErrorBody(status: .badRequest, code: "invalid_request", message: "malformed HTTP: \(error)")
                .response
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            response = ErrorBody(status: .internalServerError, code: "internal", message: "internal error").response
        }
        let route = routeLabel(request.uri.path, in: routes)
        let status = response.status.code
        // Every body here is one buffer made before this point, so the response is complete now.
        metrics.requestFinished(
            route: route, method: request.method.rawValue, status: status, duration: ContinuousClock.now - start)
        return response
    }

    /// The JSON answer for a status Hummingbird raised (no route, a body that could not be read).
    func answer(_ status: HTTPResponse.Status, _ request: Request) -> Response {
        switch status {
        case .notFound:
            if let methods = routes[request.uri.path] {
                let allowed = methods.map(\.rawValue).joined(separator: ", ")
                return ErrorBody(
                    status: .methodNotAllowed, code: "method_not_allowed",
                    message: "\(request.uri.path) answers \(allowed) only", headers: [.allow: allowed]
                ).response
            }
            return ErrorBody(status: .notFound, code: "not_found", message: "no such endpoint").response
        case .contentTooLarge:
            return ErrorBody(status: status, code: "event_too_large", message: "the request body is too large")
                .response
        default:
            return ErrorBody(status: status, code: "http_\(status.code)", message: status.reasonPhrase.lowercased())
                .response
        }
    }
}

/// The route label of `path` (its query, if any, left off) in the latency histogram: the path when it is one of
/// `routes`, else `unmatched`, so unknown paths cannot multiply the histogram's series.
func routeLabel(_ path: String, in routes: [String: [HTTPRequest.Method]] = serverRoutes) -> String {
    let bare = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
    guard let bare, routes[bare] != nil else { return "unmatched" }
    return bare
}
