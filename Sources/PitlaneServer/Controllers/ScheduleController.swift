import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PitlaneCore

/// `/api/schedule`, `POST /api/schedule/refresh` and `/calendar.ics`: the F1 calendar.
struct ScheduleController<Context: RequestContext>: Sendable {
    let schedule: ScheduleService

    func addRoutes(to router: Router<Context>) {
        router.get("api/schedule", use: season)
        router.post("api/schedule/refresh", use: refresh)
        router.get("calendar.ics", use: calendar)
    }

    @Sendable func season(_ request: Request, context: Context) async throws -> Response {
        let year: Int
        switch await requestedYear(request) {
        case .success(let value): year = value
        case .failure(let error): return error.response
        }
        guard let season = await schedule.season(year) else {
            return JSONResponse.error(
                "no calendar for \(year) (known: \(await schedule.years.map(String.init).joined(separator: ", ")))", status: .notFound,
                code: "no_season")
        }
        let (current, next, now) = await schedule.now()
        let body = ScheduleJSON(
            season: season, timing: schedule.timing, now: now, current: current, next: next, refresh: await schedule.refreshInfo(year))
        return JSONResponse.encode(body)
    }

    /// Fetches the season from Jolpica now; answers 502 with the reason when that fails (the old data stays).
    @Sendable func refresh(_ request: Request, context: Context) async throws -> Response {
        let year: Int
        switch await requestedYear(request) {
        case .success(let value): year = value
        case .failure(let error): return error.response
        }
        switch await schedule.refresh(year) {
        case .success(let season):
            return JSONResponse.encode(RefreshJSON(refreshed: true, season: year, events: season.events.count))
        case .failure(.off):
            return JSONResponse.error(ScheduleError.off.description, status: .conflict, code: "refresh_off")
        case .failure(.rateLimited(let reason)):
            return JSONResponse.error(ScheduleError.rateLimited(reason).description, status: .tooManyRequests)
        case .failure(let error):
            return JSONResponse.error(error.description, status: .badGateway, code: "calendar_refresh_failed")
        }
    }

    /// `?sessions=fp1,qualifying,race` picks session kinds; `?season=` one season (default: all known).
    @Sendable func calendar(_ request: Request, context: Context) async throws -> Response {
        var kinds: Set<SessionKind>?
        if let list = request.uri.queryParameters.get("sessions"), !list.isEmpty {
            var chosen: Set<SessionKind> = []
            for name in list.split(separator: ",") {
                guard let kind = SessionKind(rawValue: name.trimmingCharacters(in: .whitespaces)) ?? Self.alias(String(name)) else {
                    let known = SessionKind.allCases.map(\.rawValue).joined(separator: ", ")
                    return JSONResponse.error(
                        "unknown session kind '\(name)' (known: \(known))", status: .badRequest, code: "unknown_session_kind")
                }
                chosen.insert(kind)
            }
            kinds = chosen
        }
        var seasons = await schedule.allSeasons()
        if let text = request.uri.queryParameters.get("season") {
            guard let year = Self.year(text) else { return Self.badSeason(text) }
            seasons = seasons.filter { $0.season == year }
        }
        let (_, _, now) = await schedule.now()
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/calendar; charset=utf-8", .cacheControl: "max-age=3600",
                .contentDisposition: "inline; filename=\"formula1.ics\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: ICalendar.document(seasons, kinds: kinds, stamp: now))))
    }

    static func alias(_ name: String) -> SessionKind? {
        switch name.lowercased().trimmingCharacters(in: .whitespaces) {
        case "gp", "grandprix": .race
        case "sprintqualifying", "sprint-qualifying", "sq", "shootout": .sprintQualifying
        case "quali": .qualifying
        default: nil
        }
    }

    private func requestedYear(_ request: Request) async -> Result<Int, ResponseError> {
        guard let text = request.uri.queryParameters.get("season") else { return .success(await schedule.currentYear()) }
        guard let year = Self.year(text) else { return .failure(ResponseError(Self.badSeason(text))) }
        return .success(year)
    }

    static func year(_ text: String) -> Int? {
        Int(text).flatMap { (1950...2100).contains($0) ? $0 : nil }
    }

    static func badSeason(_ text: String) -> Response {
        JSONResponse.error("season must be a year like 2026, not '\(text)'", status: .badRequest, code: "bad_season")
    }

    struct ResponseError: Error {
        let response: Response
        init(_ response: Response) { self.response = response }
    }
}
