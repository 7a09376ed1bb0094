// Original file: imprint/v1/consumer.proto


export interface ListTopicsRequest {
}

export interface ListTopicsRequest__Output {
}
