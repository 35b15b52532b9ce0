import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PitlaneCore

extension ProxyReply {
    /// The Hummingbird response for a proxy reply; upstream bodies are relayed chunk by chunk.
    var response: Response {
        var fields = HTTPFields()
        for header in headers.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        let status = HTTPResponse.Status(code: status)
        switch body {
        case .text(let text):
            fields[.contentLength] = nil
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .stream(let upstream):
            let length = headers.value(for: "Content-Length").flatMap(Int.init)
            return Response(
                status: status, headers: fields,
                body: ResponseBody(contentLength: length) { writer in
                    for try await chunk in upstream { try await writer.write(chunk) }
                    try await writer.finish(nil)
                })
        }
    }
}

/// JSON responses with the API's date format (ISO-8601, UTC).
enum JSONResponse {
    static func encode<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The API's one error shape (`ErrorBody`): `code` is stable for programs (by default the status's
    /// name), `message` is for people.
    static func error(_ message: String, status: HTTPResponse.Status, code: String? = nil) -> Response {
        encode(ErrorBody(code: code ?? ErrorBody.code(status: status.code), message: message), status: status)
    }
}
