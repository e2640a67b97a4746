package record

// Proxy is one web-proxy log line, with the 28 columns of Apache Spot's Hive
// table "proxy" in its order, then spot's additions.
type Proxy struct {
	PDate        string `parquet:"p_date" json:"p_date" doc:"request date, YYYY-MM-DD in UTC"`
	PTime        string `parquet:"p_time" json:"p_time" doc:"request time, HH:MM:SS in UTC"`
	ClientIP     string `parquet:"clientip" json:"clientip" doc:"client address (c-ip)"`
	Host         string `parquet:"host" json:"host" doc:"requested host (cs-host)"`
	ReqMethod    string `parquet:"reqmethod" json:"reqmethod" doc:"HTTP method (cs-method)"`
	UserAgent    string `parquet:"useragent" json:"useragent" doc:"user agent (cs(User-Agent)); - when absent"`
	ResContType  string `parquet:"resconttype" json:"resconttype" doc:"response content type (rs(Content-Type)); - when absent"`
	Duration     int32  `parquet:"duration" json:"duration" doc:"time taken, milliseconds (time-taken)"`
	Username     string `parquet:"username" json:"username" doc:"authenticated user (cs-username)"`
	AuthGroup    string `parquet:"authgroup" json:"authgroup" doc:"authentication group (cs-auth-group)"`
	ExceptionID  string `parquet:"exceptionid" json:"exceptionid" doc:"proxy exception id (x-exception-id)"`
	FilterResult string `parquet:"filterresult" json:"filterresult" doc:"filter verdict (sc-filter-result)"`
	WebCat       string `parquet:"webcat" json:"webcat" doc:"web categories (cs-categories)"`
	Referer      string `parquet:"referer" json:"referer" doc:"referer (cs(Referer))"`
	RespCode     string `parquet:"respcode" json:"respcode" doc:"HTTP status (sc-status)"`
	Action       string `parquet:"action" json:"action" doc:"proxy action (s-action), e.g. TCP_MISS"`
	URIScheme    string `parquet:"urischeme" json:"urischeme" doc:"URI scheme (cs-uri-scheme)"`
	URIPort      string `parquet:"uriport" json:"uriport" doc:"URI port (cs-uri-port)"`
	URIPath      string `parquet:"uripath" json:"uripath" doc:"URI path (cs-uri-path)"`
	URIQuery     string `parquet:"uriquery" json:"uriquery" doc:"URI query (cs-uri-query)"`
	URIExtension string `parquet:"uriextension" json:"uriextension" doc:"URI file extension (cs-uri-extension)"`
	ServerIP     string `parquet:"serverip" json:"serverip" doc:"proxy or upstream server address (s-ip)"`
	SCBytes      int64  `parquet:"scbytes" json:"scbytes" doc:"bytes from server to client (sc-bytes); Spot's int widened to int64"`
	CSBytes      int64  `parquet:"csbytes" json:"csbytes" doc:"bytes from client to server (cs-bytes); Spot's int widened to int64"`
	VirusID      string `parquet:"virusid" json:"virusid" doc:"virus id (x-virus-id)"`
	BCAppName    string `parquet:"bcappname" json:"bcappname" doc:"application name (x-bluecoat-application-name)"`
	BCAppOper    string `parquet:"bcappoper" json:"bcappoper" doc:"application operation (x-bluecoat-application-operation)"`
	FullURI      string `parquet:"fulluri" json:"fulluri" doc:"host + path + query, path and query kept only when longer than 1 character (Spot's rule)"`
	Y            int32  `parquet:"y" json:"y" doc:"year of the request (UTC), Spot's partition column y"`
	M            int32  `parquet:"m" json:"m" doc:"month of the request (UTC), 1-12, Spot's partition column m"`
	D            int32  `parquet:"d" json:"d" doc:"day of the month of the request (UTC), Spot's partition column d"`
	H            int32  `parquet:"h" json:"h" doc:"hour of the request (UTC), 0-23, Spot's partition column h"`
	TsNs         int64  `parquet:"ts_ns" json:"ts_ns" doc:"request time, nanoseconds since the Unix epoch"`
	EID          int64  `parquet:"eid" json:"eid" doc:"event id: hash of source file, position and content, stable across runs and shards; below 2^53, so exact in jq and JavaScript"`
}

// Meta implements Record.
func (Proxy) Meta() Meta { return Meta{KindProxy, StreamEvents} }
