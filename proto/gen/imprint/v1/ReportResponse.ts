// Original file: imprint/v1/consumer.proto


export interface ReportResponse {
}

export interface ReportResponse__Output {
}
