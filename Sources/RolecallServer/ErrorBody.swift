import Hummingbird
import RolecallJSON

/// A refusal with a JSON body `{"error": CODE, "message": TEXT}`: what every error answer of the server is.
struct ErrorBody: Error, Sendable {
    /// The HTTP status.
    var status: HTTPResponse.Status
    /// A stable code, e.g. `invalid_event`.
    var code: String
    /// What went wrong, one lowercase line.
    var message: String
    /// Extra headers (`WWW-Authenticate`, `Allow`).
    var headers: HTTPFields = [:]

    /// The answer's body.
    var text: String { "{\"error\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))}\n" }

    /// The answer.
    var response: Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func unauthorized(_ message: String) -> ErrorBody {
        ErrorBody(
            status: .unauthorized, code: "unauthorized", message: message,
            headers: [.wwwAuthenticate: "Bearer realm=\"rolecall\""])
    }

    static func tooLarge(_ limit: Int) -> ErrorBody {
        ErrorBody(
            status: .contentTooLarge, code: "event_too_large",
            message: "the event is larger than \(limit) bytes (--max-event-bytes)")
    }
}
