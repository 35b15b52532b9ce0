import Foundation
import Hummingbird
import Logging
import NIOCore
import PitlaneCore
import Yams

/// `GET /api/openapi.json`: the API described by the hand-written `Resources/openapi.yaml`, served as
/// JSON. The test suite checks the document against the routes the router really has, and CI runs a
/// fuzzer (schemathesis) that checks every answer against it.
struct OpenAPIController<Context: RequestContext>: Sendable {
    let document: ByteBuffer

    init(logger: Logger) {
        document = ByteBuffer(bytes: Self.bundledJSON(logger: logger))
    }

    func addRoutes(to router: Router<Context>) {
        router.get("api/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-cache"],
                body: ResponseBody(byteBuffer: document))
        }
    }

    /// The bundled document as JSON, with this build's version; `{}` (and an error in the log) if it cannot
    /// be read, which the test suite would catch long before a release.
    static func bundledJSON(logger: Logger) -> Data {
        do {
            guard let file = BundledResources.directory("openapi.yaml") else { throw CocoaError(.fileNoSuchFile) }
            let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(
                of: "PITLANE_VERSION", with: PitlaneVersion.string)
            guard let object = try Yams.load(yaml: text) else { throw CocoaError(.fileReadCorruptFile) }
            return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            logger.error("the bundled OpenAPI document cannot be read", metadata: ["error": "\(error)"])
            return Data("{}".utf8)
        }
    }
}
