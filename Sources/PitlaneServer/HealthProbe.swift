import AsyncHTTPClient
import Foundation
import NIOCore
import PitlaneCore

/// `pitlane health`: asks a running Pitlane's `/healthz`, for container health checks and service
/// monitors that have no HTTP client of their own (the image has no curl).
public enum HealthProbe {
    /// The health URL of the server this configuration describes (a wildcard host is asked on loopback).
    public static func url(for configuration: Configuration) -> URL? {
        ServerAddress.local(host: configuration.server.host, port: configuration.server.port, path: "/healthz")
    }

    /// "ok 0.1.0" when the server answered 200 with `{"status":"ok"}`; otherwise why not.
    public static func check(_ url: URL, timeout: Duration = .seconds(5)) async -> Result<String, HealthFailure> {
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url.absoluteString), timeout: .init(timeout))
            let body = try await response.body.collect(upTo: 64 * 1024)
            guard response.status == .ok else { return .failure(HealthFailure(message: "\(url) answered \(response.status.code)")) }
            let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
            guard object?["status"] as? String == "ok" else { return .failure(HealthFailure(message: "\(url) did not say ok")) }
            return .success("ok \(object?["version"] as? String ?? "")")
        } catch {
            return .failure(HealthFailure(message: "\(url) cannot be reached: \(error)"))
        }
    }

    public struct HealthFailure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}
